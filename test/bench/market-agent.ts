/**
 * The marketplace from the provider's side:
 *   1. a real agent (`offshift agent`, wallet unlocked from a password file) idle while connected
 *      to a market, against the same agent with the marketplace off: the added CPU (target
 *      under 0.5% of one core) and memory;
 *   2. from `offshift agent` on a fresh data folder (the demo network starts by itself) to the
 *      first demo job paid and redeemed on the local chain (target under 60 s, after the build).
 * Linux only (/proc). `npm run bench` builds first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { silentLogger } from '../../runtime/log.js';
import { openSettingsStore } from '../../runtime/settings/store.js';
import { createKeystore } from '../../runtime/wallet/keystore.js';
import { startMarket } from '../../market/server.js';
import { startTestChain } from '../helpers/anvil.js';
import { removeAgentLeftovers } from '../helpers/leftovers.js';
import { sampleProcess } from '../helpers/proc-stats.js';
import { makeTempHome } from '../helpers/temp-home.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'runtime', 'cli.js');
const SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);

function startAgent(home: string, env: NodeJS.ProcessEnv, args: string[] = []): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [cli, 'agent', '--port', '0', ...args], { env: { ...env, OFFSHIFT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.resume();
  const ready = (async () => {
    const deadline = Date.now() + 60_000;
    while (!out.includes('Dashboard:')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the agent did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { child, ready };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

async function idleWithMarket(): Promise<void> {
  const chain = await startTestChain();
  const market = await startMarket({ port: 0, chainId: chain.chainId, escrow: chain.escrow, log: silentLogger });
  try {
    const results: Record<string, Awaited<ReturnType<typeof sampleProcess>>> = {};
    for (const mode of ['off', 'connected'] as const) {
      const temp = makeTempHome('offshift-bench-market-');
      fs.writeFileSync(
        path.join(temp.home, 'devnet.json'),
        JSON.stringify({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, port: 0, pid: chain.anvil.pid, token: chain.token, escrow: chain.escrow, fromBlock: 0, buyer: { address: chain.buyer.address, privateKey: chain.buyer.privateKey } }),
      );
      fs.writeFileSync(path.join(temp.home, 'password'), 'bench password, not a secret\n', { mode: 0o600 });
      await createKeystore(temp.home, 'bench password, not a secret', { scryptN: 1024 });
      openSettingsStore(temp.home).update('market', { url: market.url });
      const env: NodeJS.ProcessEnv = { ...process.env, OFFSHIFT_MARKET: mode === 'off' ? 'off' : '' };
      const { child, ready } = startAgent(temp.home, env, ['--password-file', path.join(temp.home, 'password')]);
      try {
        await ready;
        if (mode === 'connected') {
          const deadline = Date.now() + 30_000;
          while (!market.market.providersView().some((p) => p.connected)) {
            if (Date.now() > deadline) throw new Error('the agent did not sign in to the market');
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        await new Promise((r) => setTimeout(r, 3000));
        results[mode] = await sampleProcess(child.pid!, SECONDS);
      } finally {
        await stop(child);
        temp.cleanup();
      }
    }
    const off = results.off!;
    const on = results.connected!;
    console.log(`idle agent with a wallet, ${SECONDS} s each (CPU as % of one core; RSS mean / max):`);
    console.log(`  marketplace off:       CPU ${off.cpuPct.toFixed(2)} %   RSS ${off.rssMeanMiB.toFixed(1)} / ${off.rssMaxMiB.toFixed(1)} MiB`);
    console.log(`  connected to a market: CPU ${on.cpuPct.toFixed(2)} %   RSS ${on.rssMeanMiB.toFixed(1)} / ${on.rssMaxMiB.toFixed(1)} MiB`);
    console.log(`  added by the market connection: CPU ${(on.cpuPct - off.cpuPct).toFixed(2)} % of one core (target < 0.5 %), RSS ${(on.rssMeanMiB - off.rssMeanMiB).toFixed(1)} MiB mean`);
  } finally {
    await market.close();
    await chain.stop();
  }
}

async function firstPaidDemoJob(): Promise<void> {
  const temp = makeTempHome('offshift-bench-demo-');
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.OFFSHIFT_MARKET;
  const t0 = performance.now();
  const { child, ready } = startAgent(temp.home, env);
  try {
    await ready;
    const listening = (performance.now() - t0) / 1000;
    const deadline = Date.now() + 180_000;
    let times: { offered: number | null; paid: number | null; redeemed: number | null } = { offered: null, paid: null, redeemed: null };
    while (times.redeemed === null || times.paid === null) {
      if (Date.now() > deadline) throw new Error('no demo job was paid within 180 s');
      await new Promise((r) => setTimeout(r, 250));
      const file = path.join(temp.home, 'offshift.db');
      if (!fs.existsSync(file)) continue;
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const has = (sql: string) => {
          try {
            return db.prepare(sql).get() !== undefined;
          } catch {
            return false;
          }
        };
        const now = (performance.now() - t0) / 1000;
        if (times.offered === null && has('SELECT 1 FROM market_offers LIMIT 1')) times = { ...times, offered: now };
        if (times.paid === null && has('SELECT 1 FROM market_jobs WHERE ended_at IS NOT NULL AND paid_up_to != \'0\' LIMIT 1')) times = { ...times, paid: now };
        if (times.redeemed === null && has('SELECT 1 FROM ledger_redemptions LIMIT 1')) times = { ...times, redeemed: now };
      } finally {
        db.close();
      }
    }
    console.log('fresh data folder, `offshift agent` (the demo network starts by itself), seconds from the command:');
    console.log(`  dashboard listening ${listening.toFixed(1)} s · first offer ${times.offered?.toFixed(1)} s · first job ended and paid ${times.paid?.toFixed(1)} s · redeemed on chain ${times.redeemed.toFixed(1)} s (target < 60 s)`);
  } finally {
    await stop(child);
    removeAgentLeftovers(temp.home);
    await new Promise<void>((resolve) => {
      const down = spawn(process.execPath, [cli, 'demo', 'down'], { env: { ...env, OFFSHIFT_HOME: temp.home }, stdio: 'ignore' });
      down.once('exit', () => resolve());
    });
    temp.cleanup();
  }
}

export default async function marketAgentBench(): Promise<void> {
  if (process.platform !== 'linux') return void console.log('market agent bench: skipped (reads /proc; Linux only)');
  if (!fs.existsSync(cli)) throw new Error('dist/runtime/cli.js is missing: run `npm run build` first.');
  const only = process.env.BENCH_ONLY; // "idle" or "demo" to run one part
  if (only !== 'demo') await idleWithMarket();
  if (only !== 'idle') await firstPaidDemoJob();
}

if (import.meta.url === `file://${process.argv[1]}`) await marketAgentBench();
