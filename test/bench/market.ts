/**
 * Reference market benchmark: the market runs as its own process (`offshift market serve`, so
 * its memory is its own); this process connects 1,000 simulated providers over real WebSockets
 * (each signs in with its own key and advertises) and 10 buyers, then submits jobs:
 *   - paced: 10,000 jobs at a steady rate: time from submit to offer, p50 / p99 (target p99 < 50 ms)
 *   - burst: 10,000 more at once: jobs matched (offered) per second, and the latency under the burst
 *   - the market's CPU time per job (submit, match, offer, accept, confirm): what one core can match
 *     per second whatever else the machine runs
 *   - the market's resident memory (RSS) idle with the providers connected, and after the jobs
 * Providers accept every offer (the market confirms it and tells the buyer).
 * Run: npx tsx test/bench/market.ts [providers] [jobs]   (OFFSHIFT_BENCH_RATE: paced jobs per second, default 500)
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Wallet } from 'ethers';
import WebSocket from 'ws';
import { PATHS, signInMessage, type Advertisement, type Role } from '../../protocol/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const chainId = 31337;
const escrow = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const IMAGE = 'sha256:' + 'ab'.repeat(32);
const now = () => performance.timeOrigin + performance.now();

type Json = Record<string, unknown> & { type: string };

function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Connects and signs in; `onMessage` gets every later message. */
function connect(url: string, role: Role, wallet: Wallet, onMessage: (m: Json, ws: WebSocket) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url + PATHS[role], { perMessageDeflate: false });
    let ready = false;
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', versions: [1], role, agent: 'bench' })));
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Json;
      if (ready) return onMessage(m, ws);
      if (m.type === 'challenge') {
        const text = signInMessage({ domain: m.domain as string, address: wallet.address, uri: m.uri as string, chainId: m.chainId as number, nonce: m.nonce as string, issuedAt: m.issuedAt as string, expirationTime: m.expiresAt as string, role });
        void wallet.signMessage(text).then((signature) => ws.send(JSON.stringify({ type: 'sign-in', message: text, signature })));
      } else if (m.type === 'welcome') {
        ready = true;
        resolve(ws);
      } else reject(new Error(`sign-in failed: ${JSON.stringify(m)}`));
    });
  });
}

function ad(i: number): Advertisement {
  return {
    // 64 cards, all free: room for the burst (an advertisement may not claim more free GPUs than it lists).
    gpus: Array.from({ length: 64 }, () => ({ model: i % 2 ? 'NVIDIA H100 80GB HBM3' : 'NVIDIA GeForce RTX 4090', vendor: 'nvidia' as const, vramMiB: i % 2 ? 81_559 : 24_564, driver: '550.54', cudaVersion: '12.4', score: null })),
    cpus: 64,
    memoryMiB: 512 * 1024,
    freeDiskMiB: 1024 * 1024,
    score: i % 10 === 0 ? null : 100 + (i % 97),
    prices: { minPricePerGpuHour: String(10n ** 17n * BigInt(1 + (i % 5))), minPricePerJobHour: '0' },
    availability: { state: 'available', reason: 'idle' },
    maxJobSeconds: 86_400,
    slots: 64,
    freeGpus: 64,
    chainId,
    escrow,
    agent: 'bench',
  };
}

export async function main(providerCount = Number(process.argv[2] ?? 1000), jobCount = Number(process.argv[3] ?? 10_000)): Promise<void> {
  const rate = Number(process.env.OFFSHIFT_BENCH_RATE ?? 500);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'runtime/cli.ts'), 'market', 'serve', '--port', '0', '--chain-id', String(chainId), '--escrow', escrow], {
    cwd: root,
    env: { ...process.env, OFFSHIFT_CLI_MAIN: '1', OFFSHIFT_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
      child.once('exit', (code) => reject(new Error(`market serve exited ${code}`)));
    });
    const pid = child.pid!;
    const baseRss = rssMiB(pid);

    // Offers: latency from the submit time carried in the job's env; every offer accepted.
    const latencies: number[] = [];
    let offered = 0;
    let lastOfferAt = 0;
    let waiter: (() => void) | null = null;
    let target = 0;
    const onProvider = (m: Json, ws: WebSocket) => {
      if (m.type !== 'offer') return;
      const offer = m.offer as { offerId: string; job: { env: Record<string, string> } };
      const t = now();
      latencies.push(t - Number(offer.job.env.BENCH_T));
      offered += 1;
      lastOfferAt = t;
      ws.send(JSON.stringify({ type: 'offer-reply', offerId: offer.offerId, accept: true, reason: null, detail: '' }));
      if (offered >= target && waiter) waiter();
    };

    let t0 = now();
    const providers: WebSocket[] = [];
    for (let i = 0; i < providerCount; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, providerCount - i) }, async (_, k) => {
          const ws = await connect(url, 'provider', new Wallet('0x' + crypto.randomBytes(32).toString('hex')), onProvider);
          ws.send(JSON.stringify({ type: 'advertise', ad: ad(i + k) }));
          return ws;
        }),
      );
      providers.push(...batch);
    }
    const connectSeconds = (now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const idleRss = rssMiB(pid);
    const buyers = await Promise.all(Array.from({ length: 10 }, () => connect(url, 'buyer', new Wallet('0x' + crypto.randomBytes(32).toString('hex')), () => {})));

    let ref = 0;
    const submit = (k: number) => {
      const job = { image: IMAGE, command: ['render', String(k)], env: { BENCH_T: String(now()) }, gpus: 1 + (k % 4), pricePerHour: '2000000000000000000', reportIntervalSeconds: 30 };
      buyers[k % buyers.length]!.send(JSON.stringify({ type: 'submit', ref: `r${++ref}`, job }));
    };
    const allOffered = (n: number, timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        target = n;
        if (offered >= n) return resolve();
        const timer = setTimeout(() => reject(new Error(`only ${offered} of ${n} jobs were offered in ${timeoutMs} ms`)), timeoutMs);
        waiter = () => (clearTimeout(timer), resolve());
      });

    // Paced.
    const cpu0 = cpuSeconds(pid);
    t0 = now();
    const perTick = Math.max(1, Math.round(rate / 100));
    for (let k = 0; k < jobCount; k += perTick) {
      for (let j = k; j < Math.min(jobCount, k + perTick); j++) submit(j);
      const due = t0 + ((k + perTick) / rate) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - now())));
    }
    await allOffered(jobCount, 120_000);
    const pacedSeconds = (lastOfferAt - t0) / 1000;
    const paced = [...latencies].sort((a, b) => a - b);
    const pacedCpu = cpuSeconds(pid) - cpu0;

    // Burst.
    latencies.length = 0;
    const cpu1 = cpuSeconds(pid);
    t0 = now();
    for (let k = 0; k < jobCount; k++) submit(jobCount + k);
    await allOffered(2 * jobCount, 120_000);
    const burstSeconds = (lastOfferAt - t0) / 1000;
    const burst = [...latencies].sort((a, b) => a - b);
    const burstCpu = cpuSeconds(pid) - cpu1;
    await new Promise((r) => setTimeout(r, 500));
    const afterRss = rssMiB(pid);

    const f = (ms: number) => `${ms.toFixed(1)} ms`;
    console.log(`market benchmark: ${providerCount} providers (signed in and advertised in ${connectSeconds.toFixed(1)} s), 10 buyers`);
    console.log(`  paced ${jobCount} jobs at ${rate}/s: submit → offer p50 ${f(percentile(paced, 50))}, p99 ${f(percentile(paced, 99))}, max ${f(paced[paced.length - 1]!)} (target p99 < 50 ms) — ${(jobCount / pacedSeconds).toFixed(0)} jobs/s, market CPU ${((pacedCpu / pacedSeconds) * 100).toFixed(0)}% of a core`);
    console.log(`  burst ${jobCount} jobs at once: ${(jobCount / burstSeconds).toFixed(0)} jobs matched per second (all offered in ${burstSeconds.toFixed(2)} s); submit → offer p50 ${f(percentile(burst, 50))}, p99 ${f(percentile(burst, 99))}`);
    console.log(`  market CPU per job: ${((burstCpu / jobCount) * 1000).toFixed(2)} ms in the burst, ${((pacedCpu / jobCount) * 1000).toFixed(2)} ms paced → about ${(jobCount / burstCpu).toFixed(0)} jobs matched per second per core`);
    console.log(`  (this machine: ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)})`);
    console.log(`  market RSS: ${baseRss.toFixed(0)} MiB at start, ${idleRss.toFixed(0)} MiB with ${providerCount} providers connected, ${afterRss.toFixed(0)} MiB after ${2 * jobCount} jobs`);
    for (const ws of [...providers, ...buyers]) ws.terminate();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
