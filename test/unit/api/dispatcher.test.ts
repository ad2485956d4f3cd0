import { describe, expect, it } from 'vitest';
import { createDispatcher, type Handlers } from '../../../runtime/api/dispatcher.js';
import { AppError } from '../../../runtime/errors.js';
import { jsonDepth, MAX_JSON_DEPTH, parseRequest } from '../../../runtime/api/protocol.js';

function handlers(overrides: Partial<Handlers> = {}): Handlers {
  const notUsed = async () => {
    throw new Error('this handler is not part of the test');
  };
  const own = overrides as Record<string, unknown>;
  return new Proxy(own, { get: (target, key) => target[key as string] ?? notUsed }) as Handlers;
}

describe('dispatcher', () => {
  it('runs the handler with validated input and returns its result', async () => {
    const dispatch = createDispatcher(handlers({ 'gpu.telemetry': async (input) => ({ status: { state: 'running', reason: String(input.sinceMs) }, samples: [] }) }));
    expect(await dispatch('gpu.telemetry', { sinceMs: 42 })).toEqual({ ok: true, result: { status: { state: 'running', reason: '42' }, samples: [] } });
  });

  it('concurrent calls of a command without input share one run (a flood of system.check costs one)', async () => {
    let runs = 0;
    const dispatch = createDispatcher(handlers({ 'system.check': async () => (runs++, await new Promise((r) => setTimeout(r, 20)), { checkedAt: 'now', items: [] }) }));
    const results = await Promise.all(Array.from({ length: 300 }, () => dispatch('system.check', {})));
    expect(runs).toBe(1);
    expect(results.every((r) => r.ok)).toBe(true);
    await dispatch('system.check', undefined);
    expect(runs).toBe(2); // once it has answered, the next call runs again
  });

  it('keeps an invalid-input message short whatever the input (an unknown key of 200 KB)', async () => {
    const res = await createDispatcher(handlers())('agent.state', { ['k'.repeat(200_000)]: 1 });
    expect(res).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(!res.ok && res.error.message.length).toBeLessThan(2100);
  });

  it('refuses JSON nested deeper than 64 before parsing it (a 1 MiB [[[[… would stall the agent)', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[[ in a string"}]}')).toBe(3);
    expect(jsonDepth('"\\"[[["')).toBe(0);
    const deep = `{"type":"request","id":3,"command":"jobs.run","input":${'['.repeat(500_000)}${']'.repeat(500_000)}}`;
    const t0 = performance.now();
    expect(parseRequest(deep)).toMatchObject({ ok: false, response: { error: { code: 'bad-message', message: expect.stringContaining('deeper than 64') } } });
    expect(performance.now() - t0).toBeLessThan(100);
    const ok = `{"type":"request","id":3,"command":"x","input":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`;
    expect(parseRequest(ok).ok).toBe(true);
  });

  it('refuses an unknown command without running anything', async () => {
    const dispatch = createDispatcher(handlers());
    const res = await dispatch('gpu.format', {});
    expect(res).toMatchObject({ ok: false, error: { code: 'unknown-command' } });
  });

  it('refuses invalid input before the handler runs, naming the field', async () => {
    let ran = false;
    const dispatch = createDispatcher(handlers({ 'gpu.telemetry': async () => ((ran = true), { status: { state: 'running', reason: '' }, samples: [] }) }));
    const res = await dispatch('gpu.telemetry', { sinceMs: -5 });
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.code).toBe('invalid-input');
      expect(res.error.message).toContain('sinceMs');
    }
    expect(ran).toBe(false);
    expect(await dispatch('gpu.list', { extra: true })).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(await dispatch('gpu.list', 'not an object')).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
  });

  it('passes an AppError through with its code, and hides other errors behind "internal"', async () => {
    const seen: string[] = [];
    const dispatch = createDispatcher(
      handlers({
        'gpu.list': async () => {
          throw new AppError('locked-by-policy', 'An administrator set this.');
        },
        'system.check': async () => {
          throw new TypeError('boom');
        },
      }),
      (command) => seen.push(command),
    );
    expect(await dispatch('gpu.list', {})).toEqual({ ok: false, error: { code: 'locked-by-policy', message: 'An administrator set this.' } });
    expect(await dispatch('system.check', {})).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(seen).toEqual(['system.check']);
  });
});

describe('wire protocol', () => {
  it('parses a well-formed request', () => {
    expect(parseRequest(JSON.stringify({ type: 'request', id: 3, command: 'gpu.list', input: {} }))).toEqual({
      ok: true,
      request: { type: 'request', id: 3, command: 'gpu.list', input: {} },
    });
  });

  it.each([
    ['not json', '{'],
    ['not an object', '42'],
    ['missing command', JSON.stringify({ type: 'request', id: 1 })],
    ['negative id', JSON.stringify({ type: 'request', id: -1, command: 'x' })],
    ['extra fields', JSON.stringify({ type: 'request', id: 1, command: 'x', __proto__: 1, evil: true })],
  ])('answers a malformed message (%s) with a bad-message error', (_name, raw) => {
    const parsed = parseRequest(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.response).toMatchObject({ type: 'response', ok: false, error: { code: 'bad-message' } });
  });

  it('keeps the id of a malformed request so the client can match the error', () => {
    const parsed = parseRequest(JSON.stringify({ type: 'request', id: 7, command: '' }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.response.id).toBe(7);
  });
});
