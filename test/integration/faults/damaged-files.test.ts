/**
 * Fault injection on the real headless agent (a child process): its files damaged before it
 * starts. Each case ends one of two ways, never half-alive: the agent runs and says what is
 * wrong and what to do, or it refuses to start, naming the file. Nothing the owner had is
 * replaced: every damaged file is kept byte for byte.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toErrorBody } from '../../../runtime/errors.js';
import { createClient, type Client } from '../../../runtime/api/client.js';
import { connectWebSocket } from '../../../runtime/api/transports/websocket-client.js';
import { DATABASE_FILE, openDatabase } from '../../../runtime/storage/database.js';
import { KEYSTORE_FILE } from '../../../runtime/wallet/keystore-file.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { spawnAgent, type SpawnedAgent } from './spawn-agent.js';

const temps: { cleanup: () => void }[] = [];
const agents: SpawnedAgent[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(agents.splice(0).map((a) => a.stop()));
  for (const t of temps.splice(0)) t.cleanup();
});

/** A data folder (inside a temp folder that stands for $HOME). */
function home(): string {
  const t = makeTempHome('offshift-damaged-');
  temps.push(t);
  const h = path.join(t.home, 'data');
  fs.mkdirSync(h, { mode: 0o700 });
  return h;
}

function start(h: string, timeoutMs?: number): SpawnedAgent {
  const a = spawnAgent(h, timeoutMs);
  agents.push(a);
  return a;
}

async function connect(h: string, a: SpawnedAgent): Promise<Client> {
  const token = fs.readFileSync(path.join(h, 'api-token'), 'utf8').trim();
  const client = createClient(await connectWebSocket(a.port(), token));
  clients.push(client);
  return client;
}

/** A file's bytes, or a folder's listing: what must not change. */
function snapshot(file: string): string {
  const stat = fs.statSync(file);
  return stat.isDirectory() ? `folder:${fs.readdirSync(file).sort().join(',')}` : fs.readFileSync(file).toString('base64');
}

const KEYSTORE = JSON.stringify({ address: '3c44cdddb6a900fa2b585dd299e03d12fa4293bc', crypto: { cipher: 'aes-128-ctr', kdf: 'scrypt' }, version: 3 });

describe('the real agent over damaged files', () => {
  it('a damaged wallet keystore (garbage, truncated, {}, a folder): the agent runs, says the keystore is unreadable and what to do, and keeps it', async () => {
    const cases: Array<[string, (file: string) => void]> = [
      ['garbage', (f) => fs.writeFileSync(f, Buffer.from([0, 0xff, 0xfe, 0x13, 0x37, 0x42]))],
      ['truncated', (f) => fs.writeFileSync(f, KEYSTORE.slice(0, KEYSTORE.length / 2))],
      ['{}', (f) => fs.writeFileSync(f, '{}')],
      ['a folder', (f) => fs.mkdirSync(path.join(f, 'inside'), { recursive: true })],
    ];
    // Started together: each is its own agent on its own data folder.
    const runs = cases.map(([what, damage]) => {
      const h = home();
      const file = path.join(h, KEYSTORE_FILE);
      damage(file);
      return { what, h, file, before: snapshot(file), agent: start(h) };
    });
    for (const run of runs) {
      expect(await run.agent.outcome, `${run.what}: started\n${run.agent.output()}`).toBe('started');
    }
    // The money loop ticked at start (it exited 70 within half a second before): still running.
    await new Promise((r) => setTimeout(r, 3000));
    for (const run of runs) {
      expect(run.agent.child.exitCode, `${run.what}: still running\n${run.agent.output()}`).toBeNull();
      const client = await connect(run.h, run.agent);
      const status = await client.call('wallet.status');
      expect(status.exists).toBe(true);
      expect(status.address).toBeNull();
      expect(status.chainError, run.what).toMatch(/wallet keystore \S*wallet-keystore\.json.*(is damaged|is a folder).*left untouched.*backup.*recovery phrase/);
      expect(run.agent.output()).toMatch(/the wallet keystore is unreadable/);
      expect(run.agent.output()).not.toMatch(/cannot recover from and exits|unhandled/i);
      expect((await client.call('agent.state')).state).toBeDefined();
      expect(snapshot(run.file), `${run.what}: kept`).toBe(run.before);
    }
  }, 120_000);

  it('a 0-byte offshift.db is refused, naming it and what to do, and kept; a new install (no file) still creates one', async () => {
    const h = home();
    const file = path.join(h, DATABASE_FILE);
    fs.writeFileSync(file, '');
    let error: unknown = null;
    try {
      openDatabase(file).close();
    } catch (e) {
      error = e;
    }
    expect(toErrorBody(error)).toMatchObject({ code: 'database-unreadable', message: expect.stringMatching(/offshift\.db is empty \(0 bytes\).*left untouched.*move the file aside/) });
    expect(fs.statSync(file).size).toBe(0);

    // The real agent: refuses to start, with the message, and the file stays as it was.
    const agent = start(h);
    expect(await agent.outcome).toBe('exited');
    expect(await agent.exited).not.toBe(0);
    expect(agent.output()).toMatch(/offshift\.db is empty \(0 bytes\)/);
    expect(agent.output()).not.toMatch(/unexpected error/);
    expect(fs.statSync(file).size).toBe(0);
    expect(fs.readdirSync(h).filter((f) => f.startsWith(DATABASE_FILE))).toEqual([DATABASE_FILE]);

    // No file at all: a new install, whose database is made (never left empty).
    const fresh = home();
    const db = openDatabase(path.join(fresh, DATABASE_FILE));
    db.close();
    expect(fs.statSync(path.join(fresh, DATABASE_FILE)).size).toBeGreaterThan(0);
    expect(fs.readdirSync(fresh).filter((f) => f.includes('creating'))).toEqual([]);
    const again = openDatabase(path.join(fresh, DATABASE_FILE));
    expect(again.pragma('user_version', { simple: true })).toBeGreaterThan(0);
    again.close();
  }, 60_000);

  it('agent.json as a folder: the agent exits, naming the file and what to do (it never stays half-alive answering its API)', async () => {
    const h = home();
    const file = path.join(h, 'agent.json');
    fs.mkdirSync(path.join(file, 'inside'), { recursive: true });
    const agent = start(h, 30_000);
    expect(await agent.outcome).toBe('exited');
    const code = await agent.exited;
    expect(code).not.toBe(0);
    expect(agent.output()).toMatch(/agent\.json \(it is a folder, not a file\)\. Remove it/);
    expect(agent.output()).not.toMatch(/unexpected error/);
    expect(snapshot(file)).toBe('folder:inside');
  }, 60_000);

  it('settings.json as a folder: the agent runs, no work runs on a guess, and it says which file and what to do', async () => {
    const h = home();
    const file = path.join(h, 'settings.json');
    fs.mkdirSync(path.join(file, 'inside'), { recursive: true });
    const agent = start(h);
    expect(await agent.outcome, agent.output()).toBe('started');
    const client = await connect(h, agent);
    const schedule = await client.call('schedule.get');
    expect(JSON.stringify(schedule)).toMatch(/settings\.json cannot be read \(it is a folder, not a file\): move it aside or remove it/);
    // The availability decision: paused, with the reason.
    let state = await client.call('agent.state');
    for (let i = 0; i < 50 && state.reason !== 'settings-invalid'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await client.call('agent.state');
    }
    // Without a GPU the state says so first; the decision itself is the schedule's.
    if (state.reason !== 'no-gpu') expect(state).toMatchObject({ state: 'paused', reason: 'settings-invalid' });
    const decision = (schedule as { decision?: { reason: string; detail: string } }).decision;
    if (decision) expect(decision).toMatchObject({ run: false, reason: 'settings-invalid' });
    // Saving says the same, naming the file; the folder stays.
    await expect(client.call('schedule.set', { mode: 'always' } as never)).rejects.toMatchObject({ message: expect.stringMatching(/settings\.json cannot be read \(it is a folder, not a file\)/) });
    expect(snapshot(file)).toBe('folder:inside');
    expect(agent.child.exitCode).toBeNull();
  }, 60_000);
});
