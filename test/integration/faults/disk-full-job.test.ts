/**
 * Fault injection: the data folder's disk fills up while a paid marketplace job runs (the data
 * folder on a 20 MiB tmpfs, filled to ENOSPC after the job's first paid report). Real agent, real
 * reference market and buyer, real anvil, real Docker. A full disk costs at most the reports that
 * could not be written: the job ends right (its container and /output mount are cleaned up at
 * once; its end, its output and its pay follow once space returns), and the next job runs without
 * anyone restarting anything. Needs root (the tmpfs); skipped with the reason otherwise.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../../runtime/agent/agent.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import { createLogger } from '../../../runtime/log.js';
import { connectDocker } from '../../../runtime/engine/index.js';
import { LABEL_JOB } from '../../../runtime/sandbox/policy.js';
import { canBuildTestImage } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';
import { PASSWORD, PRICE, useRealLoop } from '../market/real-loop.js';
import { fillDisk, mountsUnder, mountTmpfs, tmpfsSkipReason } from './tmpfs.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const skip = tmpfsSkipReason ?? canBuildTestImage();
if (skip) console.warn(`[disk full mid-job] skipped: ${skip}`);

describe.skipIf(skip !== null)('the disk fills up while a paid job runs', () => {
  const loop = useRealLoop();
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    // Bounded: an agent left holding a job it never ended (the fault itself) must not hold the run.
    for (const c of cleanups.splice(0).reverse()) await Promise.race([c(), new Promise((r) => setTimeout(r, 20_000))]);
  }, 60_000);

  /** An agent on a 20 MiB tmpfs, signed in to the real market, and a buyer counting paid reports. */
  async function agentOnSmallDisk() {
    const disk = mountTmpfs('offshift-full-job-', 20);
    cleanups.push(disk.unmount);
    const home = disk.dir;
    const c = loop.chain;
    fs.writeFileSync(
      path.join(home, 'devnet.json'),
      JSON.stringify({ rpcUrl: c.rpcUrl, chainId: c.chainId, port: Number(new URL(c.rpcUrl).port), pid: c.anvil.pid, token: c.token, escrow: c.escrow, fromBlock: 0, buyer: { address: c.buyer.address, privateKey: c.buyer.privateKey } }),
    );
    const lines: string[] = [];
    const market = await loop.market();
    const agent = createAgent({
      home,
      log: createLogger((l) => lines.push(l), 'debug'),
      env: { ...process.env, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      idleSource: null,
      market: { enabled: true, demo: false, backoff: { minMs: 200, maxMs: 1000 } },
    });
    const { address } = await agent.client().call('wallet.create', { password: PASSWORD });
    await c.fund(address, { eth: '5' });
    agent.schedule.settings.update('market', { url: market.url, minPricePerJobHour: tokens('1').toString() });
    await agent.start();
    cleanups.push(async () => {
      await agent.jobs.runner.preemptAll(0).catch(() => {});
      await agent.stop();
    });
    await until('the agent to sign in', async () => (await agent.client().call('market.status', {})).state === 'connected', 20_000);

    let paidReports = 0;
    const buyer = await loop.buyer(market.url, (e) => {
      if (e.type === 'usage' && e.paid) paidReports++;
    });
    const outputDir = makeTempDir('offshift-full-job-out-');
    cleanups.push(() => fs.rmSync(outputDir, { recursive: true, force: true }));
    return { home, agent, lines, buyer, outputDir, paidReports: () => paidReports };
  }

  it('the job ends right, is paid for what ran once space returns, and the next job runs by itself', async () => {
    const { home, agent, lines, buyer, outputDir, paidReports } = await agentOnSmallDisk();
    // 12 s of ticks, then a 100 KB picture in /output (the job's tmpfs, not the full disk).
    const command = 'i=0; while [ $i -lt 12 ]; do echo tick $i; sleep 1; i=$((i+1)); done; head -c 100000 /dev/zero | tr "\\0" x > /output/picture.txt; echo wrote the picture';
    const handle = await buyer.submit(loop.job(0, { command: ['sh', '-c', command], diskMiB: 1, outputMiB: 1 }), { outputDir });
    await until('a first paid report', () => paidReports() > 0, 30_000);
    const local = agent.jobs.runner.list().find((j) => j.state === 'running');
    expect(local, 'the job runs').toBeDefined();

    // The disk fills up mid-job.
    const filler = fillDisk(home);
    const docker = connectDocker();
    // The job ends meanwhile: its container and its /output mount go at once, whatever the disk.
    await until('the job container removed on the full disk', async () => (await docker.listContainers({ all: true, filters: { label: [`${LABEL_JOB}=${local!.id}`] } })).length === 0, 30_000);
    await new Promise((r) => setTimeout(r, 3000));
    // Its record waits for space (the disk refuses it).
    expect(agent.jobs.runner.get(local!.id)!.state).toBe('running');

    // Space returns.
    fs.rmSync(filler);
    const spaceBack = Date.now();
    const result = await Promise.race([handle.result, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no result 60 s after space returned\n${lines.slice(-30).join('')}`)), 60_000))]);
    const settledMs = Date.now() - spaceBack;
    console.info(`[disk full mid-job] the buyer had the job's end, output and pay ${settledMs} ms after space returned`);
    expect(settledMs).toBeLessThan(15_000);
    expect(result.state).toBe('succeeded');
    expect(result.usageSeconds).toBeGreaterThanOrEqual(11);
    expect(result.usageSeconds).toBeLessThanOrEqual(16);
    // Paid for what ran (every second the run was reported for).
    expect(BigInt(result.paid)).toBe((BigInt(result.usageSeconds) * PRICE) / 3600n);
    // The picture it wrote while the disk was full reached the buyer.
    const picture = result.outputs.find((o) => o.path === 'picture.txt');
    expect(picture?.bytes).toBe(100_000);
    const job = agent.jobs.runner.get(local!.id)!;
    expect(job).toMatchObject({ state: 'succeeded', reason: 'exit-0', exitCode: 0 });
    expect(agent.jobs.runner.events(local!.id).map((e) => e.state).slice(-2)).toEqual(['running', 'succeeded']);
    expect(mountsUnder(home)).toEqual([]);
    expect(lines.some((l) => l.includes('job records wait in memory'))).toBe(true);
    expect(lines.filter((l) => /job run crashed|"level":"error"/.test(l))).toEqual([]);

    // Work resumes by itself: the next job is taken and runs.
    const next = await buyer.submit(loop.job(2, { diskMiB: 1, outputMiB: 0 }), { outputDir: null });
    const second = await Promise.race([next.result, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the next job did not run')), 60_000))]);
    expect(second.state).toBe('succeeded');
  }, 240_000);

  it('a disk full for longer than two report intervals while the job runs: not stopped as unpaid, and paid for every second once space returns', async () => {
    const { home, agent, lines, buyer, paidReports } = await agentOnSmallDisk();
    // 24 s of work; the disk is full for 16 s of it (the unpaid limit is two 5 s intervals + 2 s).
    const handle = await buyer.submit(loop.job(24, { diskMiB: 1, outputMiB: 0 }), { outputDir: null });
    await until('a first paid report', () => paidReports() > 0, 30_000);
    const local = agent.jobs.runner.list().find((j) => j.state === 'running');
    expect(local, 'the job runs').toBeDefined();
    const filler = fillDisk(home);
    await new Promise((r) => setTimeout(r, 16_000));
    expect(agent.jobs.runner.get(local!.id)!.state, 'still running on the full disk').toBe('running');
    fs.rmSync(filler);
    const result = await Promise.race([handle.result, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no result\n${lines.slice(-30).join('')}`)), 60_000))]);
    expect(result.state).toBe('succeeded');
    expect(result.usageSeconds).toBeGreaterThanOrEqual(23);
    expect(BigInt(result.paid)).toBe((BigInt(result.usageSeconds) * PRICE) / 3600n);
    expect(agent.jobs.runner.get(local!.id)).toMatchObject({ state: 'succeeded', reason: 'exit-0' });
    expect(lines.filter((l) => /unpaid|job run crashed|"level":"error"/.test(l))).toEqual([]);
  }, 240_000);
});
