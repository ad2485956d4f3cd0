import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgentLog } from '../../../main/agent/agent-log.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const temps: Array<() => void> = [];
afterEach(() => temps.splice(0).forEach((c) => c()));

describe('the agent log', () => {
  it('appends the agent\'s output to logs/agent.log, private to the user', () => {
    const { home, cleanup } = makeTempHome();
    temps.push(cleanup);
    const dir = path.join(home, 'logs');
    const log = createAgentLog(dir);
    expect(fs.existsSync(dir)).toBe(false); // nothing until the agent writes
    log.write('{"msg":"one"}\n');
    log.write(Buffer.from('{"msg":"two"}\n'));
    log.close();
    expect(fs.readFileSync(path.join(dir, 'agent.log'), 'utf8')).toBe('{"msg":"one"}\n{"msg":"two"}\n');
    expect(fs.statSync(path.join(dir, 'agent.log')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('rolls over to agent.log.1 past its size limit, keeping the disk use bounded', () => {
    const { home, cleanup } = makeTempHome();
    temps.push(cleanup);
    const dir = path.join(home, 'logs');
    const log = createAgentLog(dir, 100);
    for (let i = 0; i < 30; i++) log.write(`line ${String(i).padStart(2, '0')} ........\n`);
    log.close();
    const current = fs.readFileSync(path.join(dir, 'agent.log'), 'utf8');
    const previous = fs.readFileSync(path.join(dir, 'agent.log.1'), 'utf8');
    expect(current.length + previous.length).toBeLessThan(300);
    expect(current).toContain('line 29');
    expect(fs.readdirSync(dir).sort()).toEqual(['agent.log', 'agent.log.1']);
  });
});
