/**
 * The first run, as a new user has it: `offshift agent` on a fresh data folder with no market
 * configured starts the demo network by itself (local chain, reference market, demo buyer),
 * makes a demo wallet, and a demo job arrives, renders its picture in the sandbox, is paid by
 * vouchers and redeemed on the local chain. `offshift demo status` and `demo down` then see and
 * stop it. (How fast: test/bench/market-agent.ts.)
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { findDemoBinary } from '../../../runtime/demo/image.js';
import { removeAgentLeftovers } from '../../helpers/leftovers.js';
import { killAllOf } from '../demo/processes.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { dockerAvailable } from '../../helpers/test-images.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'dist', 'runtime', 'cli.js');
const skip = !fs.existsSync(CLI)
  ? 'the CLI is not built (npm run build)'
  : !findDemoBinary()
    ? 'the demo renderer is not built (npm run build needs a C compiler)'
    : !dockerAvailable()
      ? 'the Docker engine is not reachable'
      : null;
if (skip) console.warn(`[skipped] the first-run demo: ${skip}`);

describe.skipIf(skip !== null)('the first run: the demo network', () => {
  for (const mode of ['a detached process', 'the agent\'s own process (the desktop app)'] as const) {
    describe(`with the market and buyer in ${mode}`, () => firstRun(mode !== 'a detached process'));
  }
});

function firstRun(inProcess: boolean): void {
  const temp = makeTempHome('offshift-demo-first-run-');
  const env: NodeJS.ProcessEnv = { ...process.env, OFFSHIFT_HOME: temp.home, OFFSHIFT_DEMO_IN_PROCESS: inProcess ? '1' : '0' };
  delete env.OFFSHIFT_MARKET;
  let agent: ChildProcess | null = null;

  afterAll(async () => {
    // The agent stops within 5 s in every mode, a demo job running or not (test/integration/demo/lifetimes.test.ts),
    // and the demo network with it. Whatever is left after a failure is killed, not waited for.
    if (agent && agent.exitCode === null && agent.signalCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    }
    try {
      execFileSync(process.execPath, [CLI, 'demo', 'down'], { env, stdio: 'ignore', timeout: 30_000 });
    } catch {}
    killAllOf(temp.home);
    removeAgentLeftovers(temp.home);
    temp.cleanup();
  });

  const query = <T>(sql: string): T | undefined => {
    const file = path.join(temp.home, 'offshift.db');
    if (!fs.existsSync(file)) return undefined;
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare(sql).get() as T | undefined;
    } catch {
      return undefined; // not migrated yet
    } finally {
      db.close();
    }
  };

  it('runs, pays and redeems a demo job with nothing configured', async () => {
    agent = spawn(process.execPath, [CLI, 'agent', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    agent.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    agent.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    const deadline = Date.now() + 150_000;
    let done: { job_id: string; local_job_id: string; paid_up_to: string } | undefined;
    for (;;) {
      done = query<{ job_id: string; local_job_id: string; paid_up_to: string }>("SELECT job_id, local_job_id, paid_up_to FROM market_jobs WHERE end_state = 'succeeded' AND paid_up_to != '0' LIMIT 1");
      const redeemed = query<{ n: number }>('SELECT count(*) AS n FROM ledger_redemptions');
      if (done && redeemed && redeemed.n > 0) break;
      if (agent.exitCode !== null || Date.now() > deadline) throw new Error(`no demo job was paid and redeemed:\n${log.split('\n').slice(-15).join('\n')}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // The picture the job rendered, kept with the job for the Jobs page.
    const output = path.join(temp.home, 'jobs', done.local_job_id, 'output');
    const pngs = fs.readdirSync(output).filter((f) => f.endsWith('.png'));
    expect(pngs.length).toBe(1);
    expect(fs.readFileSync(path.join(output, pngs[0]!)).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // A demo wallet was made for the owner, and it is paid on chain.
    expect(fs.existsSync(path.join(temp.home, 'demo', 'wallet-password'))).toBe(true);
    const balance = JSON.parse(execFileSync(process.execPath, [CLI, 'wallet', 'status', '--json'], { env, encoding: 'utf8', timeout: 30_000 })) as { tokenBalance: string; redeemed: string };
    expect(BigInt(balance.redeemed)).toBeGreaterThan(0n);
    expect(BigInt(balance.tokenBalance)).toBe(BigInt(balance.redeemed));

    // The agent's link, from the command line: connected to the demo market, the paid job among the offers.
    const market = JSON.parse(execFileSync(process.execPath, [CLI, 'market', 'status', '--json'], { env, encoding: 'utf8', timeout: 30_000 })) as { agent: boolean; network: string; state: string; offers: { jobId: string; accepted: boolean }[] };
    expect(market).toMatchObject({ agent: true, network: 'demo', state: 'connected' });
    expect(market.offers).toContainEqual(expect.objectContaining({ jobId: done.job_id, accepted: true }));
    const marketText = execFileSync(process.execPath, [CLI, 'market', 'status'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(marketText).toMatch(/^Market: +the demo network on this computer \(test tokens\), ws:\/\/127\.0\.0\.1:\d+\nState: +connected, since /);
    expect(marketText).toContain(done.job_id);

    const status = JSON.parse(execFileSync(process.execPath, [CLI, 'demo', 'status', '--json'], { env, encoding: 'utf8', timeout: 30_000 })) as { running: boolean; detail: string; buyer: { jobsSubmitted: number } };
    expect(status.running).toBe(true);
    expect(status.detail).toMatch(/Test tokens only/);
    expect(status.buyer.jobsSubmitted).toBeGreaterThanOrEqual(1);
    if (inProcess) {
      // Inside the app's agent, `demo down` cannot stop it (it would kill the agent): it says so.
      const down = spawnSync(process.execPath, [CLI, 'demo', 'down'], { env, encoding: 'utf8', timeout: 30_000 });
      expect(down.status).toBe(1);
      expect(down.stderr).toMatch(/runs inside the Offshift app/);
    }
  }, 180_000);
}
