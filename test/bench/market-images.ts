/**
 * Matching by image, measured: the market in its own process (`offshift market serve`), 1,000
 * simulated providers over real WebSockets at revision 2, each advertising 64 cached image digests
 * (random, the jobs' images each held by a few) and a free image budget; buyers submit jobs on
 * those images (and some nobody holds) with a stated size, paced, every offer accepted. Prints
 * submit → offer p50 / p99 (target p99 < 50 ms) and the same run with no images advertised, and
 * the ratio: what ranking by image costs.
 * Run: npx tsx test/bench/market-images.ts [providers] [jobs]   (OFFSHIFT_BENCH_RATE: jobs per second, default 500)
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Wallet } from 'ethers';
import WebSocket from 'ws';
import { MAX_ADVERTISED_IMAGES, PATHS, signInMessage, SUPPORTED_VERSIONS, type Advertisement, type Role } from '../../protocol/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const chainId = 31337;
const escrow = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
/** Images the jobs ask for; each is held by HOLDERS providers. Jobs on COLD_IMAGES more images find no holder. */
const JOB_IMAGES = 20;
const COLD_IMAGES = 5;
const HOLDERS = 3;
const now = () => performance.timeOrigin + performance.now();

type Json = Record<string, unknown> & { type: string };

const randomDigest = () => `sha256:${crypto.randomBytes(32).toString('hex')}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Connects at revision 2 and signs in; `onMessage` gets every later message. */
function connect(url: string, role: Role, wallet: Wallet, onMessage: (m: Json, ws: WebSocket) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url + PATHS[role], { perMessageDeflate: false });
    let ready = false;
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', versions: [...SUPPORTED_VERSIONS], role, agent: 'bench-images' })));
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

/** As test/bench/market.ts advertises, plus (with `digests`) the image cache: 64 digests and a free budget of 0–20 GiB. */
function ad(i: number, digests: string[] | null): Advertisement {
  return {
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
    agent: 'bench-images',
    ...(digests ? { images: { digests, freeBudgetMiB: (i * 7919) % 20_480 } } : {}),
  };
}

/** Each provider's 64 digests: random, with each job image put in HOLDERS providers' lists. */
function cacheLists(providerCount: number, jobImages: string[]): string[][] {
  const lists = Array.from({ length: providerCount }, () => Array.from({ length: MAX_ADVERTISED_IMAGES }, randomDigest));
  for (const digest of jobImages) {
    for (let h = 0; h < HOLDERS; h++) {
      const list = lists[crypto.randomInt(providerCount)]!;
      list[crypto.randomInt(list.length)] = digest;
    }
  }
  return lists;
}

interface RunResult {
  p50: number;
  p99: number;
  max: number;
  connectSeconds: number;
  cpuMsPerJob: number;
  /** The longest this process (the simulated peers) was kept from reading: latencies include it. */
  benchLagMs: number;
  /** Offers of a job on a held image that went to a holder. */
  warmOffers: number;
  heldJobs: number;
}

function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function run(providerCount: number, jobCount: number, rate: number, withImages: boolean): Promise<RunResult> {
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
    const jobImages = Array.from({ length: JOB_IMAGES + COLD_IMAGES }, randomDigest);
    const lists = cacheLists(providerCount, jobImages.slice(0, JOB_IMAGES));
    const latencies: number[] = [];
    let offered = 0;
    let warmOffers = 0;
    let waiter: (() => void) | null = null;
    let target = 0;
    const onProvider = (held: Set<string>) => (m: Json, ws: WebSocket) => {
      if (m.type !== 'offer') return;
      const offer = m.offer as { offerId: string; job: { image: string; env: Record<string, string> } };
      latencies.push(now() - Number(offer.job.env.BENCH_T));
      offered += 1;
      if (held.has(offer.job.image.slice(offer.job.image.indexOf('@') + 1))) warmOffers += 1;
      ws.send(JSON.stringify({ type: 'offer-reply', offerId: offer.offerId, accept: true, reason: null, detail: '' }));
      if (offered >= target && waiter) waiter();
    };

    let t0 = now();
    const sockets: WebSocket[] = [];
    for (let i = 0; i < providerCount; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, providerCount - i) }, async (_, k) => {
          const digests = lists[i + k]!;
          const ws = await connect(url, 'provider', new Wallet('0x' + crypto.randomBytes(32).toString('hex')), onProvider(new Set(withImages ? digests : [])));
          ws.send(JSON.stringify({ type: 'advertise', ad: ad(i + k, withImages ? digests : null) }));
          return ws;
        }),
      );
      sockets.push(...batch);
    }
    const connectSeconds = (now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const buyers = await Promise.all(Array.from({ length: 10 }, () => connect(url, 'buyer', new Wallet('0x' + crypto.randomBytes(32).toString('hex')), () => {})));
    sockets.push(...buyers);

    let heldJobs = 0;
    const submit = (k: number) => {
      const image = k % (JOB_IMAGES + COLD_IMAGES);
      if (image < JOB_IMAGES) heldJobs += 1;
      const job = { image: `registry.example/bench/app${image}@${jobImages[image]!}`, imageSizeBytes: (1 + (k % 8)) * 1e9, command: ['render', String(k)], env: { BENCH_T: String(now()) }, gpus: 1 + (k % 4), pricePerHour: '2000000000000000000', reportIntervalSeconds: 30 };
      buyers[k % buyers.length]!.send(JSON.stringify({ type: 'submit', ref: `r${k}`, job }));
    };
    const allOffered = new Promise<void>((resolve, reject) => {
      target = jobCount;
      const timer = setTimeout(() => reject(new Error(`only ${offered} of ${jobCount} jobs were offered in 120 s`)), 120_000);
      waiter = () => (clearTimeout(timer), resolve());
    });
    const cpu0 = cpuSeconds(child.pid!);
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    t0 = now();
    const perTick = Math.max(1, Math.round(rate / 100));
    for (let k = 0; k < jobCount; k += perTick) {
      for (let j = k; j < Math.min(jobCount, k + perTick); j++) submit(j);
      const due = t0 + ((k + perTick) / rate) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - now())));
    }
    await allOffered;
    lag.disable();
    const cpu = cpuSeconds(child.pid!) - cpu0;
    const sorted = [...latencies].sort((a, b) => a - b);
    for (const ws of sockets) ws.terminate();
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)!, connectSeconds, cpuMsPerJob: (cpu / jobCount) * 1000, benchLagMs: lag.max / 1e6, warmOffers, heldJobs };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

export async function main(providerCount = Number(process.argv[2] ?? 1000), jobCount = Number(process.argv[3] ?? 5000)): Promise<void> {
  const rate = Number(process.env.OFFSHIFT_BENCH_RATE ?? 500);
  const plain = await run(providerCount, jobCount, rate, false);
  const images = await run(providerCount, jobCount, rate, true);
  const f = (ms: number) => `${ms.toFixed(1)} ms`;
  const line = (r: RunResult) => `submit → offer p50 ${f(r.p50)}, p99 ${f(r.p99)}, max ${f(r.max)} (target p99 < 50 ms); market CPU ${r.cpuMsPerJob.toFixed(2)} ms per job; this process's longest event-loop stall ${f(r.benchLagMs)}; providers signed in and advertised in ${r.connectSeconds.toFixed(1)} s`;
  console.log(`market images benchmark: ${providerCount} providers, ${jobCount} jobs paced at ${rate}/s (1–4 GPUs, stated sizes 1–8 GB), every offer accepted`);
  console.log(`  with ${MAX_ADVERTISED_IMAGES} images advertised each (${JOB_IMAGES} job images held by ${HOLDERS} providers each, ${COLD_IMAGES} held by none): ${line(images)}`);
  console.log(`    offers of jobs on a held image that went to a holder: ${images.warmOffers} of ${images.heldJobs} (each holder has 64 slots and 64 GPUs; the rest spill to providers with room)`);
  console.log(`  with no images advertised: ${line(plain)}`);
  console.log(`  ratio with/without images: p50 ×${(images.p50 / plain.p50).toFixed(2)}, p99 ×${(images.p99 / plain.p99).toFixed(2)}, CPU per job ×${(images.cpuMsPerJob / plain.cpuMsPerJob).toFixed(2)}`);
  console.log(`  (this machine: ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)})`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
