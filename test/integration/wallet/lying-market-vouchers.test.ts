/**
 * The whole provider against a market that pays with counterfeit vouchers: a real agent (real
 * Docker job, real SQLite, wallet on a real anvil with the real escrow) signs in to a scripted
 * market of ours, accepts an offer from a buyer with a deposit, runs the job, and every usage
 * report is answered with a voucher signed by a random key naming itself the buyer (10,000,007
 * OFT), plus one for a job that never ran. The job must end `unpaid`, and the owner's earnings
 * must hold nothing redeemable and no row for the job that never ran.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { silentLogger } from '../../../runtime/log.js';
import { DATABASE_FILE } from '../../../runtime/storage/database.js';
import { signVoucher } from '../../../runtime/wallet/voucher.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { sandboxTestImage } from '../../helpers/test-images.js';

type Msg = { type: string } & Record<string, unknown>;

describe('a market that pays a running job with counterfeit vouchers', () => {
  let chain: TestChain;
  let server: WebSocketServer;
  let agent: Agent;
  let temp: ReturnType<typeof makeTempHome>;
  let address = '';
  let socket: WebSocket | null = null;
  const inbox: Msg[] = [];
  const waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];

  function next(pred: (m: Msg) => boolean, timeoutMs: number, what: string): Promise<Msg> {
    const i = inbox.findIndex(pred);
    if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { pred, resolve: (m: Msg) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => reject(new Error(`no ${what} from the agent in ${timeoutMs} ms; seen: ${inbox.map((m) => m.type).join(', ')}`)), timeoutMs);
      waiters.push(w);
    });
  }

  beforeAll(async () => {
    chain = await startTestChain({ deposit: '1000' });
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/provider' });
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as { port: number }).port;
    server.on('connection', (ws, req) => {
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as Msg;
        if (m.type === 'hello') {
          const now = Date.now();
          ws.send(JSON.stringify({ type: 'challenge', version: 1, nonce: `n${now}abcdefghijklmnop`, domain: req.headers.host, uri: `ws://${req.headers.host}/v1/provider`, chainId: chain.chainId, issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 60_000).toISOString() }));
          return;
        }
        if (m.type === 'sign-in') {
          socket = ws;
          ws.send(JSON.stringify({ type: 'welcome', address, session: 's', chainId: chain.chainId, escrow: chain.escrow }));
          return;
        }
        const i = waiters.findIndex((w) => w.pred(m));
        if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
        else inbox.push(m);
      });
    });
    temp = makeTempHome('offshift-lying-market-');
    fs.writeFileSync(
      path.join(temp.home, 'devnet.json'),
      JSON.stringify({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, port: Number(new URL(chain.rpcUrl).port), pid: chain.anvil.pid, token: chain.token, escrow: chain.escrow, fromBlock: 0, buyer: { address: chain.buyer.address, privateKey: chain.buyer.privateKey } }),
    );
    agent = createAgent({
      home: temp.home,
      log: silentLogger,
      env: { ...process.env, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      idleSource: null,
      market: { enabled: true, demo: false, backoff: { minMs: 200, maxMs: 1000 } },
    });
    address = (await agent.client().call('wallet.create', { password: 'correct horse battery staple' })).address;
    await chain.fund(address, { eth: '5' });
    agent.schedule.settings.update('market', { url: `ws://127.0.0.1:${port}`, minPricePerJobHour: tokens('1').toString() });
    await agent.start();
  }, 180_000);

  afterAll(async () => {
    await agent?.jobs.runner.preemptAll(0).catch(() => {});
    await agent?.stop();
    await new Promise((r) => server?.close(r));
    temp?.cleanup();
    await chain?.stop();
  });

  it('ends the job unpaid; nothing counterfeit is redeemable, exported or summed', async () => {
    await next((m) => m.type === 'advertise', 30_000, 'advertisement');
    const jobId = 'job-paid-in-counterfeits';
    const neverRan = 'job-that-never-ran';
    const offerId = 'offer-counterfeit-1';
    socket!.send(
      JSON.stringify({
        type: 'offer',
        offer: {
          offerId,
          jobId,
          buyer: chain.buyer.address,
          chainId: chain.chainId,
          escrow: chain.escrow,
          expiresAt: Date.now() + 30_000,
          job: { image: sandboxTestImage(), command: ['sh', '-c', 'sleep 60'], gpus: 0, cpus: 0.5, memoryMiB: 64, diskMiB: 64, outputMiB: 0, maxDurationSeconds: 120, pricePerHour: tokens('36').toString(), reportIntervalSeconds: 5 },
        },
      }),
    );
    const reply = await next((m) => m.type === 'offer-reply', 30_000, 'offer reply');
    expect(reply).toMatchObject({ offerId, accept: true });
    socket!.send(JSON.stringify({ type: 'job-confirmed', jobId, offerId }));
    await next((m) => m.type === 'job-started' && m.jobId === jobId, 60_000, 'job start');

    const forger = Wallet.createRandom();
    const expiry = Math.floor(Date.now() / 1000) + 86_400;
    const forge = (job: string) => signVoucher(forger, chain.chainId, chain.escrow, { buyer: forger.address, provider: address, jobId: toJobId(job), cumulativeAmount: tokens(10_000_007).toString(), expiry });
    let ended: Msg | null = null;
    while (!ended) {
      const m = await next((x) => (x.type === 'usage' || x.type === 'job-ended') && ((x.report as { jobId?: string } | undefined)?.jobId === jobId || (x.end as { jobId?: string } | undefined)?.jobId === jobId), 30_000, 'usage report or job end');
      if (m.type === 'job-ended') ended = m;
      else {
        socket!.send(JSON.stringify({ type: 'voucher', jobId, signed: await forge(jobId) }));
        socket!.send(JSON.stringify({ type: 'voucher', jobId, signed: await forge(neverRan) }));
      }
    }
    expect(ended.end).toMatchObject({ jobId, state: 'unpaid' });

    const summary = await agent.client().call('earnings.summary', { timeZone: 'UTC' });
    expect(summary.totals.redeemable).toBe('0');
    expect(BigInt(summary.totals.pending)).toBeGreaterThan(0n); // what the job ran is owed, unpaid
    expect((await agent.client().call('wallet.status', {})).redeemable).toBe('0');
    const csv = (await agent.client().call('earnings.exportCsv', { timeZone: 'UTC' })).csv;
    expect(csv).not.toContain(toJobId(neverRan));
    expect(csv.trim().split('\n')).toHaveLength(2);

    const db = new Database(path.join(temp.home, DATABASE_FILE), { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) AS n FROM ledger_vouchers').get()).toEqual({ n: 0 });
      const refused = db.prepare('SELECT kind, buyer, market_job_id FROM ledger_refused_vouchers').all() as { kind: string; buyer: string; market_job_id: string }[];
      expect(refused.length).toBeGreaterThanOrEqual(2);
      expect(new Set(refused.map((r) => r.kind))).toEqual(new Set(['wrong-channel']));
      expect(refused.every((r) => r.buyer === forger.address)).toBe(true);
    } finally {
      db.close();
    }
  }, 120_000);
});
