/**
 * A preempted job placed again, over real WebSockets: the reference market, the buyer client
 * (and `offshift buyer submit`) with a real key, and two simulated providers with real keys
 * (peer.ts). The buyer pays each attempt on its own channel: the preempted provider's final
 * report on the first, the next provider's reports from zero on the second; its result lists
 * both. The real providers in Docker on a real chain are in replace-real.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { BuyerClient, type BuyerEvent } from '../../../buyer/index.js';
import { startMarket, type RunningMarket } from '../../../market/server.js';
import { runCli } from '../../../runtime/cli.js';
import { amountForSeconds } from '../../../protocol/index.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { until } from '../../helpers/until.js';
import { TestProvider, type Msg } from './peer.js';

const chainId = 31337;
const escrow = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const ctx = { chainId, escrow };
const IMAGE = 'sha256:' + 'ef'.repeat(32);
const PRICE = '36000000000000000000'; // 0.01 token a second
const due = (s: number) => amountForSeconds(s, BigInt(PRICE)).toString();
const job = { image: IMAGE, command: ['render'], gpus: 1, pricePerHour: PRICE, reportIntervalSeconds: 5, maxDurationSeconds: 600 };

type Voucher = Msg & { signed: { voucher: { provider: string; cumulativeAmount: string } } };

describe('market: a preempted job is placed again', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function market(): Promise<RunningMarket> {
    const m = await startMarket({ chainId, escrow, offerTtlMs: 3000 });
    cleanups.push(() => m.close());
    return m;
  }
  async function provider(m: RunningMarket): Promise<TestProvider> {
    const p = await TestProvider.connect(m.url, ctx, { score: 100 });
    cleanups.push(() => p.close());
    return p;
  }
  async function buyer(m: RunningMarket, events: BuyerEvent[], key = Wallet.createRandom()): Promise<BuyerClient> {
    const c = await BuyerClient.connect({ market: m.url, signer: key.privateKey, onEvent: (e) => events.push(e), reconnectForMs: 20_000 });
    cleanups.push(() => c.close());
    return c;
  }
  /** Accepts the next offer and starts the job. */
  async function take(p: TestProvider): Promise<{ jobId: string; maxDurationSeconds: number }> {
    const o = (await p.nextOffer()) as unknown as Msg & { offer: { offerId: string; jobId: string; job: { maxDurationSeconds: number } } };
    p.reply(o.offer.offerId, true);
    await p.peer.next('job-confirmed');
    p.peer.send({ type: 'job-started', jobId: o.offer.jobId });
    return { jobId: o.offer.jobId, maxDurationSeconds: o.offer.job.maxDurationSeconds };
  }
  const voucher = (p: TestProvider) => p.peer.next('voucher') as Promise<Voucher>;

  it('pays the preempted provider its final report, then the next provider from zero on its own channel; the result lists both attempts', async () => {
    const m = await market();
    const a = await provider(m);
    const events: BuyerEvent[] = [];
    const c = await buyer(m, events);
    const handle = await c.submit(job, { maxAttempts: 3 });
    await take(a);
    await a.report(handle.jobId, 10, PRICE);
    expect((await voucher(a)).signed.voucher).toMatchObject({ provider: a.address, cumulativeAmount: due(10) });
    await a.report(handle.jobId, 12, PRICE, { final: true });
    expect((await voucher(a)).signed.voucher).toMatchObject({ provider: a.address, cumulativeAmount: due(12) });
    a.end(handle.jobId, 'preempted', 12, 'preempted', null);

    const b = await provider(m);
    const second = await take(b);
    expect(second).toEqual({ jobId: handle.jobId, maxDurationSeconds: 600 - 12 });
    await b.report(handle.jobId, 5, PRICE);
    expect((await voucher(b)).signed.voucher).toMatchObject({ provider: b.address, cumulativeAmount: due(5) });
    b.end(handle.jobId, 'succeeded', 7);
    await b.report(handle.jobId, 7, PRICE, { final: true });
    const result = await handle.result;
    expect((await voucher(b)).signed.voucher.cumulativeAmount).toBe(due(7));
    expect(await a.peer.none('voucher', 200)).toBe(true);

    expect(result).toMatchObject({ state: 'succeeded', provider: b.address, usageSeconds: 19, paid: (BigInt(due(12)) + BigInt(due(7))).toString() });
    expect(result.attempts).toEqual([
      { attempt: 1, provider: a.address, usageSeconds: 12, paid: due(12), state: 'preempted' },
      { attempt: 2, provider: b.address, usageSeconds: 7, paid: due(7), state: 'succeeded' },
    ]);
    expect(result.refusedReports).toEqual([]);
    const told = events.find((e) => e.type === 'update' && e.reason === 're-placing');
    expect(told).toMatchObject({ state: 'queued', detail: `Preempted on provider ${a.address}: placing it again (attempt 2 of 3).` });
    expect(events.find((e) => e.type === 'attempt-ended')).toMatchObject({ attempt: 1, provider: a.address, state: 'preempted', usageSeconds: 12, paid: due(12), next: 2, maxAttempts: 3 });
    expect(m.market.jobsView()[0]).toMatchObject({ attempts: 2, maxAttempts: 3, usageSeconds: 19, paid: result.paid });
  });

  it('a buyer that lost the market while the job was placed again re-attaches, sees the new attempt, and pays both providers', async () => {
    const m = await market();
    const a = await provider(m);
    const events: BuyerEvent[] = [];
    const c = await buyer(m, events);
    const handle = await c.submit(job);
    await take(a);
    await a.report(handle.jobId, 4, PRICE);
    await voucher(a);

    // The buyer's connection drops (the client reconnects by itself about a second later).
    (c as unknown as { ws: { terminate(): void } }).ws.terminate();
    await until('the market to see the buyer gone', () => (m.market as unknown as { buyers: Map<string, unknown> }).buyers.size === 0, 5000);
    await a.report(handle.jobId, 6, PRICE, { final: true });
    a.end(handle.jobId, 'preempted', 6, 'preempted', null);
    const b = await provider(m);
    await take(b);
    await b.report(handle.jobId, 3, PRICE);

    // Back: what happened while away comes on re-attach, and each provider is paid on its channel.
    expect((await voucher(a)).signed.voucher.cumulativeAmount).toBe(due(6));
    expect((await voucher(b)).signed.voucher.cumulativeAmount).toBe(due(3));
    expect(events.map((e) => e.type)).toContain('reconnected');
    expect(events.filter((e) => e.type === 'attempt-ended')).toHaveLength(1); // told twice (replay and held message), taken once
    b.end(handle.jobId, 'succeeded', 4);
    await b.report(handle.jobId, 4, PRICE, { final: true });
    const result = await handle.result;
    expect(result.attempts.map((x) => [x.provider, x.usageSeconds, x.paid, x.state])).toEqual([
      [a.address, 6, due(6), 'preempted'],
      [b.address, 4, due(4), 'succeeded'],
    ]);
    expect(result.paid).toBe((BigInt(due(6)) + BigInt(due(4))).toString());
  });

  it('a buyer that asked for one attempt gets the job ended preempted, saying so, paid to where it stopped', async () => {
    const m = await market();
    const a = await provider(m);
    const c = await buyer(m, []);
    const handle = await c.submit(job, { maxAttempts: 1 });
    await take(a);
    await a.report(handle.jobId, 3, PRICE, { final: true });
    await voucher(a);
    a.end(handle.jobId, 'preempted', 3, 'preempted', null);
    const result = await handle.result;
    expect(result).toMatchObject({ state: 'preempted', reason: 'attempts-exhausted', provider: a.address, usageSeconds: 3, paid: due(3) });
    expect(result.detail).toMatch(/one attempt only/);
    expect(result.attempts).toEqual([{ attempt: 1, provider: a.address, usageSeconds: 3, paid: due(3), state: 'preempted' }]);
  });

  it('offshift buyer submit --max-attempts prints the attempts; market jobs shows the count', async () => {
    const m = await market();
    const temp = makeTempHome('offshift-market-replace-cli-');
    cleanups.push(() => temp.cleanup());
    const key = Wallet.createRandom();
    const keyFile = path.join(temp.home, 'buyer.key');
    fs.writeFileSync(keyFile, key.privateKey + '\n', { mode: 0o600 });
    const env = { ...process.env, OFFSHIFT_HOME: temp.home };
    const cli = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(argv, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
      return { code, stdout, stderr };
    };
    const a = await provider(m);
    const served = (async () => {
      const { jobId } = await take(a);
      await a.report(jobId, 2, PRICE, { final: true });
      await voucher(a);
      a.end(jobId, 'preempted', 2, 'preempted', null);
      const b = await provider(m);
      await take(b);
      b.end(jobId, 'succeeded', 3);
      await b.report(jobId, 3, PRICE, { final: true });
      await voucher(b);
      return { jobId, b };
    })();
    const r = await cli('buyer', 'submit', '--market', m.url, '--key-file', keyFile, '--image', IMAGE, '--price-per-hour', '36', '--report-interval', '5', '--max-attempts', '2', '--json', '--', 'render');
    const { jobId, b } = await served;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      jobId,
      state: 'succeeded',
      reason: 'succeeded',
      provider: b.address,
      usageSeconds: 5,
      paid: (BigInt(due(2)) + BigInt(due(3))).toString(),
      attempts: [
        { attempt: 1, provider: a.address, usageSeconds: 2, paid: due(2), state: 'preempted' },
        { attempt: 2, provider: b.address, usageSeconds: 3, paid: due(3), state: 'succeeded' },
      ],
    });
    expect(r.stderr).toContain(`Attempt 1 on ${a.address} ended preempted after 2 s`);
    expect(r.stderr).toContain('attempt 2 of 2');
    const table = await cli('market', 'jobs', '--market', m.url);
    expect(table.stdout).toMatch(/ATTEMPTS/);
    expect(table.stdout).toMatch(new RegExp(`${jobId}.*\\s2/2\\s*$`, 'm'));
    const bad = await cli('buyer', 'submit', '--market', m.url, '--key-file', keyFile, '--image', IMAGE, '--max-attempts', '11', '--', 'render');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-attempts is at most 10/);
  });
});
