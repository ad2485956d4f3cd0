/**
 * Policy that follows the admin, end to end: three real headless agents (the built CLI, each
 * with its own data folder and policy file), a config-management push to their files at the
 * same moment, then a signed policy served over HTTP on 127.0.0.1 with an ETag: new versions,
 * a room-wide pause, refusals (unsigned, another key, older), 304s, and a restart offline.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../../runtime/api/client.js';
import { connectWebSocket } from '../../../runtime/api/transports/websocket-client.js';
import { canonicalJson } from '../../../runtime/policy/canonical.js';
import { makeFakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { CLI, ROOT, startHeadlessAgent, type HeadlessAgent } from '../../helpers/headless-agent.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { until } from '../../helpers/until.js';

const admin = new Wallet('0x' + '5a'.repeat(32));
const stranger = new Wallet('0x' + '6b'.repeat(32));
const temp = makeTempHome('offshift-policy-room-');
const fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' });
const EVERY_SECONDS = 1;

// The policy server: one document at a time, an ETag per document, requests counted.
let served: { body: string; etag: string } | null = null;
const hits = { total: 0, notModified: 0 };
const server = http.createServer((req, res) => {
  hits.total++;
  if (!served) return void res.writeHead(404).end();
  if (req.headers['if-none-match'] === served.etag) {
    hits.notModified++;
    return void res.writeHead(304, { etag: served.etag }).end();
  }
  res.writeHead(200, { 'content-type': 'application/json', etag: served.etag }).end(served.body);
});
let url = '';
function serve(doc: unknown): void {
  const body = JSON.stringify(doc);
  served = { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` };
}
const signed = async (policy: Record<string, unknown>, by = admin) => ({ policy, signature: await by.signMessage(canonicalJson(policy)) });
const body = (version: number, extra: Record<string, unknown> = {}) => ({ version, issuedAt: new Date().toISOString(), mandatory: { schedule: { idle: { minutes: 30 + version } } }, ...extra });

interface Room {
  home: string;
  policyFile: string;
  agent: HeadlessAgent;
  client: Client;
}
const room: Room[] = [];

async function startAgent(home: string, policyFile: string): Promise<Pick<Room, 'agent' | 'client'>> {
  const env = fake.env({ PATH: process.env.PATH, HOME: temp.home, TZ: 'UTC', OFFSHIFT_HOME: home, OFFSHIFT_POLICY_FILE: policyFile, OFFSHIFT_MARKET: 'off' });
  const agent = await startHeadlessAgent(env, { timeoutMs: 60_000 });
  return { agent, client: createClient(await connectWebSocket(agent.port, agent.token)) };
}

/** Writes all three policy files at the same moment (temp file and rename, as config management does). */
function pushToRoom(policy: unknown): void {
  const text = JSON.stringify(policy);
  for (const r of room) fs.writeFileSync(`${r.policyFile}.tmp`, text);
  for (const r of room) fs.renameSync(`${r.policyFile}.tmp`, r.policyFile);
}

const statuses = () => Promise.all(room.map((r) => r.client.call('policy.status')));
const views = () => Promise.all(room.map((r) => r.client.call('schedule.get')));
async function allApply(version: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  await until(`all three agents to apply version ${version}`, async () => (await statuses()).every((s) => s.version === version), timeoutMs, {
    intervalMs: 50,
    detail: () => room.map((r) => r.agent.stderr().slice(-600)).join('\n---\n'),
  });
  return Date.now() - started;
}

beforeAll(async () => {
  execFileSync('npm', ['run', '-s', 'build:node'], { cwd: ROOT, stdio: 'pipe' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/room-policy.json`;
  const policyDir = path.join(temp.home, 'etc');
  fs.mkdirSync(policyDir);
  const started = await Promise.all(
    [0, 1, 2].map(async (i) => {
      const home = path.join(temp.home, `agent-${i}`);
      const policyFile = path.join(policyDir, `policy-${i}.json`);
      fs.writeFileSync(policyFile, JSON.stringify({ version: 1, mandatory: { schedule: { idle: { minutes: 11 } } } }));
      return { home, policyFile, ...(await startAgent(home, policyFile)) };
    }),
  );
  room.push(...started);
}, 180_000);

afterAll(async () => {
  for (const r of room) r.client.close();
  await Promise.all(room.map((r) => r.agent.stop()));
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  fake.cleanup();
  temp.cleanup();
}, 30_000);

describe('a room of three agents follows the admin', () => {
  it('a push to the three policy files at the same moment is applied by all three within seconds', async () => {
    expect((await statuses()).map((s) => [s.source, s.version])).toEqual([['file', 1], ['file', 1], ['file', 1]]);
    pushToRoom({ version: 2, mandatory: { schedule: { idle: { minutes: 22 } } } });
    const ms = await allApply(2, 5000);
    for (const v of await views()) {
      expect(v.effective.idle.minutes).toBe(22);
      expect(v.locked).toEqual(['schedule.idle.minutes']);
    }
    console.log(`[policy] file push applied by all three in ${ms} ms`);
  }, 30_000);

  it('a pinned signed URL: its policy replaces the file, and a new version is applied by all three within one poll', async () => {
    serve(await signed(body(10)));
    pushToRoom({ version: 2, source: { url, signer: admin.address, everySeconds: EVERY_SECONDS } });
    await allApply(10, 8000);
    for (const s of await statuses()) expect(s).toMatchObject({ source: 'url', url, signer: admin.address, state: 'ok', lastRefusal: null, lastCheck: { result: 'applied version 10' } });
    expect((await views()).map((v) => v.effective.idle.minutes)).toEqual([40, 40, 40]);

    serve(await signed(body(11)));
    const ms = await allApply(11, EVERY_SECONDS * 1100 + 1500);
    console.log(`[policy] signed version 11 applied by all three in ${ms} ms (poll every ${EVERY_SECONDS} s)`);
  }, 30_000);

  it('"pause the whole room now": a pauseUntil policy pauses all three with the admin reason', async () => {
    const until_ = new Date(Date.now() + 3600_000).toISOString();
    serve(await signed(body(12, { pauseUntil: until_ })));
    await allApply(12, EVERY_SECONDS * 1100 + 1500);
    await until('all three paused by the admin', async () => (await views()).every((v) => v.decision?.reason === 'admin-pause'), 3000);
    for (const v of await views()) expect(v.decision).toEqual({ run: false, reason: 'admin-pause', detail: `Paused by your administrator's policy until ${until_}.` });
    for (const s of await statuses()) expect(s.pauseUntil).toBe(until_);
  }, 30_000);

  it('unsigned, signed by another key, and older documents are refused; the refusal shows in policy.status', async () => {
    const refusedBy = async (doc: unknown, pattern: RegExp) => {
      const since = new Date().toISOString();
      serve(doc);
      await until(`all three to refuse (${pattern})`, async () => (await statuses()).every((s) => s.lastRefusal !== null && s.lastRefusal.at >= since && pattern.test(s.lastRefusal.why)), 4000);
      for (const s of await statuses()) expect(s).toMatchObject({ version: 12, pauseUntil: expect.any(String), lastCheck: { result: expect.stringMatching(/^refused: /) } });
    };
    await refusedBy(body(13), /not signed/);
    await refusedBy(await signed(body(13), stranger), new RegExp(`signed by ${stranger.address}, not by the pinned signer ${admin.address}`));
    await refusedBy(await signed(body(5)), /version 5 is older than version 12/);
    for (const s of await statuses()) expect(s.lastRefusal).toMatchObject({ version: 5 });
    expect((await views()).map((v) => v.decision?.reason)).toEqual(['admin-pause', 'admin-pause', 'admin-pause']);
  }, 30_000);

  it('offshift policy status shows it, from the running agent and, with none, from the files', () => {
    const cli = (home: string, policyFile: string, ...args: string[]) =>
      spawnSync(process.execPath, [CLI, 'policy', 'status', ...args], { env: { PATH: process.env.PATH, HOME: temp.home, TZ: 'UTC', OFFSHIFT_HOME: home, OFFSHIFT_POLICY_FILE: policyFile }, encoding: 'utf8', timeout: 30_000 });
    const text = cli(room[1]!.home, room[1]!.policyFile);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`Source:        ${url} (signed by ${admin.address}; pinned in ${room[1]!.policyFile})`);
    expect(text.stdout).toMatch(/Version: +12 \(issued /);
    expect(text.stdout).toMatch(/Last refusal: +\S+ \(version 5\): version 5 is older than version 12/);
    expect(JSON.parse(cli(room[1]!.home, room[1]!.policyFile, '--json').stdout)).toMatchObject({ source: 'url', version: 12, lastRefusal: { version: 5 } });

    const alone = path.join(temp.home, 'no-agent');
    const file = path.join(temp.home, 'etc', 'alone.json');
    fs.writeFileSync(file, JSON.stringify({ version: 3 }));
    const offline = cli(alone, file);
    expect(offline.stdout).toBe(`Source:        ${file}\nPolicy:        Administrator policy version 3 applied from ${file}.\nVersion:       3\nLast refusal:  none\n`);
  }, 60_000);

  it('with the ETag, the polls after the first are 304s', async () => {
    const kept = JSON.parse(fs.readFileSync(path.join(room[0]!.home, 'policy-signed.json'), 'utf8')) as { document: unknown };
    serve(kept.document);
    await until('all three to see the same version again', async () => (await statuses()).every((s) => s.lastCheck?.result === 'unchanged (version 12)' || s.lastCheck?.result.startsWith('not modified')), 4000);
    hits.total = 0;
    hits.notModified = 0;
    await new Promise((r) => setTimeout(r, EVERY_SECONDS * 2500));
    expect(hits.total).toBeGreaterThanOrEqual(3);
    expect(hits.notModified).toBe(hits.total);
    for (const s of await statuses()) expect(s.lastCheck?.result).toBe('not modified (keeping version 12)');
  }, 30_000);

  it('an agent restarted with the server down keeps the last good signed policy', async () => {
    const first = room[0]!;
    first.client.close();
    await first.agent.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    Object.assign(first, await startAgent(first.home, first.policyFile));
    const status = await until('a failed check after the restart', async () => {
      const s = await first.client.call('policy.status');
      return s.lastCheck?.result.startsWith('failed') ? s : null;
    }, 8000);
    expect(status).toMatchObject({ source: 'url', version: 12, lastCheck: { result: expect.stringMatching(/cannot reach .*; keeping version 12$/) } });
    await until('the restarted agent paused by the admin', async () => (await first.client.call('schedule.get')).decision?.reason === 'admin-pause', 5000);
    expect((await first.client.call('schedule.get')).effective.idle.minutes).toBe(42);
  }, 90_000);
});
