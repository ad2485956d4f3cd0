/**
 * The agent SIGKILLed mid-job (a real `offshift agent` process with a password file): after it
 * restarts on the same data folder, the runner re-adopts the container, the marketplace picks the
 * job up again (report numbers go on, the market re-links it to its buyer), the job finishes and
 * is paid for all the time it ran, and the ledger holds the final voucher. And the agent stopped
 * (SIGTERM) while the job runs, which then ends before the agent is back: the final report is
 * sent at the next start, for the time the job ran.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { silentLogger } from '../../../runtime/log.js';
import { openSettingsStore } from '../../../runtime/settings/store.js';
import { DATABASE_FILE, openDatabase } from '../../../runtime/storage/database.js';
import { createKeystore } from '../../../runtime/wallet/keystore.js';
import { BuyerClient } from '../../../buyer/index.js';
import { startMarket, type RunningMarket } from '../../../market/server.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { canBuildTestImage, sandboxTestImage } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';
import { PRICE } from './real-loop.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'dist', 'runtime', 'cli.js');
const skip = canBuildTestImage() ?? (fs.existsSync(CLI) ? null : 'the CLI is not built (npm run build)');
if (skip) console.warn(`[skipped] agent restart in a marketplace job: ${skip}`);

describe.skipIf(skip !== null)('the agent killed in a marketplace job', () => {
  let chain: TestChain;
  let market: RunningMarket;
  let temp: ReturnType<typeof makeTempHome>;
  let agent: ChildProcess | null = null;
  let address = '';

  beforeAll(async () => {
    chain = await startTestChain();
    market = await startMarket({ port: 0, dbFile: null, chainId: chain.chainId, escrow: chain.escrow, log: silentLogger });
    temp = makeTempHome('offshift-market-restart-');
    fs.writeFileSync(
      path.join(temp.home, 'devnet.json'),
      JSON.stringify({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, port: Number(new URL(chain.rpcUrl).port), pid: chain.anvil.pid, token: chain.token, escrow: chain.escrow, fromBlock: 0, buyer: { address: chain.buyer.address, privateKey: chain.buyer.privateKey } }),
    );
    fs.writeFileSync(path.join(temp.home, 'password'), 'restart restart restart\n', { mode: 0o600 });
    address = (await createKeystore(temp.home, 'restart restart restart', { scryptN: 1024 })).wallet.address;
    await chain.fund(address, { eth: '5' });
    openSettingsStore(temp.home).update('market', { url: market.url, minPricePerJobHour: '1' });
  }, 180_000);

  // Each test's agent is gone before the next starts one on the same data folder (an agent left
  // running outlived the file: when its folder was deleted it fell back to the demo network).
  afterEach(async () => {
    const running = agent;
    agent = null;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) agent.kill('SIGKILL');
    await market?.close();
    await chain?.stop();
    temp?.cleanup();
  });

  function startAgent(): ChildProcess {
    const env: NodeJS.ProcessEnv = { ...process.env, OFFSHIFT_HOME: temp.home, OFFSHIFT_PORT: '0' };
    delete env.OFFSHIFT_MARKET;
    const child = spawn(process.execPath, [CLI, 'agent', '--port', '0', '--password-file', path.join(temp.home, 'password')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.resume();
    child.stderr!.resume();
    return child;
  }

  function row(jobId: string) {
    const db = openDatabase(path.join(temp.home, DATABASE_FILE));
    try {
      return db.prepare<[string], { report_seq: number; paid_up_to: string; ended_at: number | null }>('SELECT report_seq, paid_up_to, ended_at FROM market_jobs WHERE job_id = ?').get(jobId);
    } finally {
      db.close();
    }
  }

  it('re-adopts the job, goes on reporting, and is paid to the end', async () => {
    agent = startAgent();
    await until('the agent to sign in', () => market.market.providersView().some((p) => p.connected), 30_000);
    const buyer = await BuyerClient.connect({ market: market.url, signer: chain.buyer.privateKey, reconnectForMs: 60_000 });
    try {
      const handle = await buyer.submit(
        { image: sandboxTestImage(), command: ['sh', '-c', 'i=0; while [ $i -lt 20 ]; do echo tick $i; sleep 1; i=$((i+1)); done'], gpus: 0, cpus: 0.5, memoryMiB: 64, outputMiB: 0, maxDurationSeconds: 120, pricePerHour: PRICE.toString(), reportIntervalSeconds: 5 },
        { outputDir: null },
      );
      await until('a first paid report', () => BigInt(row(handle.jobId)?.paid_up_to ?? '0') > 0n, 30_000);
      const seqBefore = row(handle.jobId)!.report_seq;
      agent.kill('SIGKILL');
      await new Promise((r) => agent!.once('exit', r));
      agent = startAgent();
      const result = await handle.result;
      expect(result.state).toBe('succeeded');
      expect(result.usageSeconds).toBeGreaterThanOrEqual(19);
      expect(BigInt(result.paid)).toBe((BigInt(result.usageSeconds) * PRICE) / 3600n);
      await until('the final voucher recorded', () => row(handle.jobId)?.paid_up_to === result.paid, 15_000);
      const after = row(handle.jobId)!;
      expect(after.report_seq).toBeGreaterThan(seqBefore);
      expect(after.ended_at).not.toBeNull();
      const db = openDatabase(path.join(temp.home, DATABASE_FILE));
      try {
        const job = db.prepare<[string], { state: string }>('SELECT state FROM jobs WHERE market_job_id = ?').get(toJobId(handle.jobId));
        expect(job?.state).toBe('succeeded');
        const best = db.prepare<[string], { amount: string }>("SELECT max(CAST(cumulative_amount AS INTEGER)) AS amount FROM ledger_vouchers WHERE market_job_id = ?").get(toJobId(handle.jobId).toLowerCase());
        expect(String(best?.amount)).toBe(result.paid);
      } finally {
        db.close();
      }
    } finally {
      buyer.close();
    }
  }, 150_000);

  it('stopped (SIGTERM) while a job runs: the agent exits at once, and after the job ended meanwhile the next start reports it; the buyer pays the run, not the downtime', async () => {
    agent = startAgent();
    await until('the agent to sign in', () => market.market.providersView().some((p) => p.connected), 30_000);
    const buyer = await BuyerClient.connect({ market: market.url, signer: chain.buyer.privateKey, reconnectForMs: 90_000 });
    try {
      const handle = await buyer.submit(
        { image: sandboxTestImage(), command: ['sh', '-c', 'sleep 12; echo done'], gpus: 0, cpus: 0.5, memoryMiB: 64, outputMiB: 0, maxDurationSeconds: 120, pricePerHour: PRICE.toString(), reportIntervalSeconds: 5 },
        { outputDir: null },
      );
      await until('a first paid report', () => BigInt(row(handle.jobId)?.paid_up_to ?? '0') > 0n, 30_000);
      const stopping = Date.now();
      agent.kill('SIGTERM');
      await new Promise((r) => agent!.once('exit', r));
      // It let go of the running job instead of waiting for it (it waited until the job ended before).
      expect(Date.now() - stopping).toBeLessThan(5000);
      // The job ends while no agent runs (about 12 s after it started), then the agent stays away 10 s more.
      await new Promise((r) => setTimeout(r, 18_000));
      agent = startAgent();
      const result = await handle.result;
      expect(result.state).toBe('succeeded');
      // The run was 12 s; counting until the restart would give about 25.
      expect(result.usageSeconds).toBeGreaterThanOrEqual(11);
      expect(result.usageSeconds).toBeLessThanOrEqual(15);
      // The final report reached the buyer before the ending: the run is paid to its end.
      expect(BigInt(result.paid)).toBe((BigInt(result.usageSeconds) * PRICE) / 3600n);
      await until('the final voucher recorded', () => row(handle.jobId)?.paid_up_to === result.paid, 15_000);
    } finally {
      buyer.close();
    }
  }, 150_000);
});
