import { describe, expect, it } from 'vitest';
import { readableLogLine, readableLogStream } from '../../../runtime/log-lines.js';
import { createLogger, logFormatFor } from '../../../runtime/log.js';

describe('logs', () => {
  it('writes one JSON object a line, the message before its fields, secrets redacted, below the level dropped', () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l), 'info');
    log.debug('not shown');
    log.info('job state', { id: 'j1', state: 'running', password: 'hunter2', nested: { privateKey: '0x1' }, amount: 5n, error: new Error('boom') });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/"msg":"job state","id":"j1","state":"running"/);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'info', password: '[redacted]', nested: { privateKey: '[redacted]' }, amount: '5', error: { name: 'Error', message: 'boom' } });
    expect(new Date(entry.t as string).getTime()).toBeGreaterThan(0);
  });

  it('reads as a line of text on a terminal', () => {
    const lines: string[] = [];
    createLogger((l) => lines.push(l), 'info', 'pretty').warn('job state', { id: 'j1', detail: 'out of space', token: 'x' });
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d WARN {2}job state id=j1 detail="out of space" token=\[redacted\]\n$/);
    expect(readableLogLine('not json\n')).toBe('not json\n');
  });

  it('chooses readable lines for a terminal, JSON elsewhere or when asked', () => {
    expect(logFormatFor({}, true)).toBe('pretty');
    expect(logFormatFor({}, false)).toBe('json');
    expect(logFormatFor({ OFFSHIFT_LOG_FORMAT: 'json' }, true)).toBe('json');
  });

  it('reformats another process\'s output by whole lines', () => {
    let out = '';
    const echo = readableLogStream((t) => (out += t));
    echo('{"level":"info","t":"2026-01-01T00:00:00Z","msg":"one"}\n{"level":"info","msg":');
    expect(out).toMatch(/INFO {2}one\n$/);
    echo('"two"}\n');
    expect(out).toMatch(/INFO {2}two\n$/);
  });
});
