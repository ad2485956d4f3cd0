/** The follower without a network: a fake fetch, the kept file, a tampered kept file, a new pin. */
import fs from 'node:fs';
import path from 'node:path';
import { Wallet } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../runtime/policy/canonical.js';
import { followPolicy, type PolicyFollower } from '../../../runtime/policy/follow.js';
import { keptPolicyFile } from '../../../runtime/policy/kept.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { until } from '../../helpers/until.js';

const admin = new Wallet('0x' + '33'.repeat(32));
const other = new Wallet('0x' + '44'.repeat(32));
const url = 'https://policy.example/room.json';
let home: string;
let cleanup: () => void;
let follower: PolicyFollower | null = null;
beforeEach(() => ({ home, cleanup } = makeTempHome('offshift-follow-')));
afterEach(() => {
  follower?.close();
  cleanup();
});

async function document(version: number) {
  const policy = { version, issuedAt: '2026-12-05T10:00:00Z', mandatory: { schedule: { idle: { minutes: version } } } };
  return { policy, signature: await admin.signMessage(canonicalJson(policy)) };
}

function fakeServer(doc: unknown) {
  const seen: Array<string | null> = [];
  const fetchImpl = (async (_url: string, init?: RequestInit) => {
    const tag = (init?.headers as Record<string, string>)['if-none-match'] ?? null;
    seen.push(tag);
    if (tag === '"v"') return new Response(null, { status: 304 });
    return new Response(JSON.stringify(doc), { status: 200, headers: { etag: '"v"' } });
  }) as typeof fetch;
  return { fetchImpl, seen };
}

describe('following a signed policy URL', () => {
  it('applies, keeps it on disk, sends the ETag, and a new follower starts from the kept one', async () => {
    const file = path.join(home, 'policy.json');
    fs.writeFileSync(file, JSON.stringify({ source: { url, signer: admin.address }, mandatory: { schedule: { idle: { minutes: 1 } } } }));
    const server = fakeServer(await document(4));
    follower = followPolicy(file, { home, fetchImpl: server.fetchImpl });
    expect(follower.current).toMatchObject({ state: 'ok', file, mandatory: { schedule: { idle: { minutes: 1 } } } });
    expect(follower.status().message).toMatch(/No signed policy from .* yet: the local file's own values apply/);
    await follower.checkNow();
    expect(follower.current).toMatchObject({ state: 'ok', file: url, version: 4, mandatory: { schedule: { idle: { minutes: 4 } } } });
    await follower.checkNow();
    expect(server.seen).toEqual([null, '"v"']);
    expect(follower.status().lastCheck?.result).toBe('not modified (keeping version 4)');
    follower.close();

    follower = followPolicy(file, { home, fetchImpl: (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch });
    expect(follower.current).toMatchObject({ version: 4 });
    await follower.checkNow();
    expect(follower.status()).toMatchObject({ version: 4, lastCheck: { result: expect.stringMatching(/^failed: cannot reach .*; keeping version 4$/) } });
  });

  it('a kept file changed on disk is dropped at start, with a refusal; another signer ignores it', async () => {
    const file = path.join(home, 'policy.json');
    fs.writeFileSync(file, JSON.stringify({ source: { url, signer: admin.address } }));
    follower = followPolicy(file, { home, fetchImpl: fakeServer(await document(4)).fetchImpl });
    await follower.checkNow();
    follower.close();

    const kept = JSON.parse(fs.readFileSync(keptPolicyFile(home), 'utf8'));
    kept.document.policy.mandatory.schedule.idle.minutes = 99;
    fs.writeFileSync(keptPolicyFile(home), JSON.stringify(kept));
    const down = (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch;
    follower = followPolicy(file, { home, fetchImpl: down });
    follower.start();
    await until('the tampered kept policy to be refused', () => follower?.status().lastRefusal, 3000);
    expect(follower.status()).toMatchObject({ version: null, lastRefusal: { why: expect.stringMatching(/kept on disk fails verification/) } });
    follower.close();

    fs.writeFileSync(file, JSON.stringify({ source: { url, signer: other.address } }));
    follower = followPolicy(file, { home, fetchImpl: down });
    expect(follower.status()).toMatchObject({ source: 'url', signer: other.address, version: null });
  });

  it('the last check and the last refusal survive a restart (for the same pin), and say when they happened', async () => {
    const file = path.join(home, 'policy.json');
    fs.writeFileSync(file, JSON.stringify({ source: { url, signer: admin.address } }));
    // Served by someone else's key: refused, and nothing applied.
    const forged = await document(7);
    forged.signature = await other.signMessage(canonicalJson(forged.policy));
    follower = followPolicy(file, { home, fetchImpl: fakeServer(forged).fetchImpl });
    await follower.checkNow();
    const refused = follower.status();
    expect(refused.lastRefusal).toMatchObject({ version: 7, why: expect.stringMatching(/signed by/) as string });
    follower.close();

    // A restart with the network down: the refusal and the check are still what `policy status` shows.
    follower = followPolicy(file, { home, fetchImpl: (() => Promise.reject(new TypeError('fetch failed'))) as typeof fetch });
    expect(follower.status()).toMatchObject({ lastRefusal: refused.lastRefusal, lastCheck: refused.lastCheck, version: null });
    follower.close();

    // Another pin starts afresh.
    fs.writeFileSync(file, JSON.stringify({ source: { url, signer: other.address } }));
    follower = followPolicy(file, { home, fetchImpl: fakeServer(forged).fetchImpl });
    expect(follower.status()).toMatchObject({ lastRefusal: null, lastCheck: null });
  });
});
