/**
 * The last-resort handler in the real headless agent: an error thrown inside a command handler
 * is an answer and the agent keeps serving; an uncaught exception or an unhandled rejection is
 * logged without secrets, recorded in the data folder, and ends the process with exit code 70
 * (systemd's Restart=on-failure starts it again); the next start reports the record.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CRASH_EXIT_CODE, CRASH_FILE, REPORTED_CRASH_FILE } from '../../../runtime/agent/crash.js';
import { createClient, type Client } from '../../../runtime/api/client.js';
import { connectWebSocket } from '../../../runtime/api/transports/websocket-client.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'crashing-agent.ts');
const temp = makeTempHome('offshift-crash-');
const home = path.join(temp.home, 'data');
const children: ChildProcess[] = [];
const TOKEN = 'c0ffee'.repeat(10) + 'abcd';
fs.mkdirSync(home, { recursive: true, mode: 0o700 });
fs.writeFileSync(path.join(home, 'api-token'), TOKEN + '\n', { mode: 0o600 });

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  temp.cleanup();
});

async function startAgent(): Promise<{ child: ChildProcess; client: Client; token: string; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { PATH: process.env.PATH, HOME: temp.home, OFFSHIFT_HOME: home, CRASH_SECRET: TOKEN, OFFSHIFT_LOG_LEVEL: 'info', OFFSHIFT_MARKET: 'off' },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (let i = 0; i < 600 && !out.includes('Dashboard:') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  expect(out, 'the agent started').toContain('Dashboard:');
  const token = fs.readFileSync(path.join(home, 'api-token'), 'utf8').trim();
  const port = (JSON.parse(fs.readFileSync(path.join(home, 'agent.json'), 'utf8')) as { port: number }).port;
  const client = createClient(await connectWebSocket(port, token));
  return { child, client, token, output: () => out, exited };
}

describe('the last-resort handler in the headless agent', () => {
  it('survives errors thrown in handlers; exits 70 with a record on an uncaught exception; the next start reports it', async () => {
    const first = await startAgent();
    // Errors inside handlers are answers, not crashes.
    await expect(first.client.call('jobs.logs', { id: 'no-such-job' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(first.client.call('jobs.get', { id: 'x'.repeat(10_000) })).rejects.toBeDefined();
    await expect(first.client.call('wallet.unlock', { password: 'wrong' } as never)).rejects.toBeDefined();
    expect((await first.client.call('agent.state')).state).toBeDefined();

    first.child.send('throw');
    expect(await first.exited).toBe(CRASH_EXIT_CODE);
    const record = JSON.parse(fs.readFileSync(path.join(home, CRASH_FILE), 'utf8'));
    expect(record).toMatchObject({ kind: 'uncaughtException', name: 'Error' });
    expect(record.message).toContain('a bug outside every handler');
    // The error carried the token: neither the log line nor the record has it.
    const crashLine = first.output().split('\n').find((l) => l.includes('cannot recover from and exits to be restarted'));
    expect(crashLine).toContain('a bug outside every handler');
    expect(crashLine).not.toContain(TOKEN);
    expect(JSON.stringify(record)).not.toContain(TOKEN);
    expect(first.token).toBe(TOKEN);
    first.client.close();

    const second = await startAgent();
    expect(second.output()).toContain('stopped on an unexpected error last time');
    const info = await second.client.call('agent.info');
    expect(info.lastCrash).toMatchObject({ kind: 'uncaughtException', message: expect.stringContaining('a bug outside every handler') });
    const check = await second.client.call('system.check');
    expect(check.items.find((i) => i.id === 'last-crash')).toMatchObject({ status: 'warn' });
    expect(fs.existsSync(path.join(home, CRASH_FILE))).toBe(false);
    expect(fs.existsSync(path.join(home, REPORTED_CRASH_FILE))).toBe(true);

    second.child.send('reject');
    expect(await second.exited).toBe(CRASH_EXIT_CODE);
    expect(JSON.parse(fs.readFileSync(path.join(home, CRASH_FILE), 'utf8'))).toMatchObject({ kind: 'unhandledRejection' });
    second.client.close();
  }, 90_000);
});
