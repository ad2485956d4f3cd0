import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_LOG_MAX_PENDING, createAgentLog } from '../../../main/agent/agent-log.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const temps: Array<() => void> = [];
afterEach(() => temps.splice(0).forEach((c) => c()));

describe('the agent log', () => {
  it('appends the agent\'s output to logs/agent.log, private to the user, without blocking the caller', async () => {
    const { home, cleanup } = makeTempHome();
    temps.push(cleanup);
    const dir = path.join(home, 'logs');
    const log = createAgentLog(dir);
    expect(fs.existsSync(dir)).toBe(false); // nothing until the agent writes
    log.write('{"msg":"one"}\n');
    log.write(Buffer.from('{"msg":"two"}\n'));
    // write() returned before touching the disk: main's thread never waits on it.
    expect(fs.existsSync(path.join(dir, 'agent.log'))).toBe(false);
    await log.close();
    expect(fs.readFileSync(path.join(dir, 'agent.log'), 'utf8')).toBe('{"msg":"one"}\n{"msg":"two"}\n');
    expect(fs.statSync(path.join(dir, 'agent.log')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('rolls over to agent.log.1 past its size limit, keeping the disk use bounded and the order', async () => {
    const { home, cleanup } = makeTempHome();
    temps.push(cleanup);
    const dir = path.join(home, 'logs');
    const log = createAgentLog(dir, 100);
    for (let i = 0; i < 30; i++) log.write(`line ${String(i).padStart(2, '0')} ........\n`);
    await log.flush();
    log.write('last\n');
    await log.close();
    const current = fs.readFileSync(path.join(dir, 'agent.log'), 'utf8');
    const previous = fs.readFileSync(path.join(dir, 'agent.log.1'), 'utf8');
    expect(current.length + previous.length).toBeLessThan(300);
    expect(current.endsWith('last\n')).toBe(true);
    expect((previous + current).split('\n').filter((l) => l.startsWith('line')).map((l) => Number(l.slice(5, 7)))).toEqual([...Array(30).keys()].slice(-((previous + current).split('\n').filter((l) => l.startsWith('line')).length)));
    expect(fs.readdirSync(dir).sort()).toEqual(['agent.log', 'agent.log.1']);
  });

  it('bounds what waits in memory: a flood is cut and the log says how much was dropped', async () => {
    const { home, cleanup } = makeTempHome();
    temps.push(cleanup);
    const dir = path.join(home, 'logs');
    const log = createAgentLog(dir, 100 * 1024 * 1024);
    const line = 'x'.repeat(1023) + '\n';
    const n = Math.ceil((AGENT_LOG_MAX_PENDING * 2) / 1024);
    for (let i = 0; i < n; i++) log.write(line);
    await log.flush();
    log.write('after\n');
    await log.close();
    const text = fs.readFileSync(path.join(dir, 'agent.log'), 'utf8');
    expect(text.length).toBeLessThan(AGENT_LOG_MAX_PENDING + 4096);
    expect(text).toMatch(/agent log: \d+ bytes of output dropped/);
    expect(text.endsWith('after\n')).toBe(true);
  });
});
