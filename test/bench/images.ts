/**
 * Images at real size, on the real engine and a real registry on 127.0.0.1 (figures printed, no
 * assertions; issue 15's targets beside them):
 * - the agent's pull against `docker pull` of the same image (OFFSHIFT_BENCH_IMAGE_GB, default 3 GB
 *   of incompressible layers), alternated: target ratio ≤ 1.1. Twice: from the registry on loopback
 *   (no network limit: a probe of the first bytes finds it fast, and the engine pulls directly), and
 *   over a link of 40 MB/s (320 Mbit/s, a fast home connection; OFFSHIFT_BENCH_LINK_GB, default
 *   0.4 GB), where the pull goes through the resumable cache;
 * - submit → running, cold (the image must be pulled) and warm (it is here);
 * - planning an eviction with 1,000 recorded images (the store read and the plan): target < 10 ms.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { connectDocker } from '../../runtime/engine/index.js';
import { measuredRate, MIN_MEASURED_PULL_BYTES } from '../../runtime/images/download-rate.js';
import { planFit, type EvictionCandidate } from '../../runtime/images/eviction.js';
import { defaultImageSettings } from '../../runtime/images/schema.js';
import { FAST_SOURCE_BYTES_PER_S, ImageService } from '../../runtime/images/service.js';
import { ImageStore } from '../../runtime/images/store.js';
import { JobRunner } from '../../runtime/jobs/runner.js';
import { createLogger } from '../../runtime/log.js';
import { DATABASE_FILE, openDatabase } from '../../runtime/storage/database.js';
import { canPushRandomImages, pushRandomImage } from '../helpers/random-image.js';
import { registryAvailable, startRegistry } from '../helpers/registry.js';
import { startSlowLink } from '../helpers/slow-link.js';
import { makeTempHome } from '../helpers/temp-home.js';
import { canBuildTestImage } from '../helpers/test-images.js';

const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export default async function main(): Promise<void> {
  planningBench();
  const skip = canBuildTestImage() ?? registryAvailable() ?? canPushRandomImages();
  if (skip) {
    console.log(`images bench: pulls skipped (${skip})`);
    return;
  }
  const gb = Number(process.env.OFFSHIFT_BENCH_IMAGE_GB ?? 3);
  const layers = Math.max(1, Math.round(gb * 2));
  const registry = await startRegistry();
  const { home, cleanup } = makeTempHome('offshift-bench-images-');
  const db = openDatabase(path.join(home, DATABASE_FILE));
  const docker = connectDocker();
  let runner: JobRunner | null = null;
  const images = new ImageService({ home, db, docker, log: createLogger(() => {}, 'warn'), settings: () => ({ ...defaultImageSettings, budgetGiB: gb * 4, minFreeGiB: 0 }), inUse: () => runner?.imagesInUse() ?? [] });
  runner = new JobRunner({ db, docker, home, images, listGpus: async () => [] });
  try {
    const t = performance.now();
    const image = await pushRandomImage(registry, { repository: 'bench/big', layerBytes: Array(layers).fill(Math.floor((gb * 1e9) / layers)), seed: `bench-${Date.now()}` });
    console.log(`pushed a ${(image.compressedBytes / 1e9).toFixed(2)} GB image of ${image.layers.length} layers in ${s(performance.now() - t)}`);
    const forget = (ref: string, digest: string) => {
      execFileSync('docker', ['image', 'ls', '--digests', '--format', '{{.ID}} {{.Digest}}'])
        .toString()
        .split('\n')
        .filter((l) => l.endsWith(digest))
        .forEach((l) => execFileSync('docker', ['rmi', '--force', l.split(' ')[0]!], { stdio: 'ignore' }));
      images.store.remove(ref);
    };
    /**
     * docker pull and the agent's pull of `ref`, alternated (the docker CLI runs apart: a link served by
     * this process keeps serving). Before the agent's first pull from a source a probe measures it;
     * measured faster than FAST_SOURCE_BYTES_PER_S, the engine pulls it directly, else the cache does.
     */
    const compare = async (ref: string, digest: string, label: string, runs: number) => {
      const host = ref.slice(0, ref.indexOf('/'));
      const docker$: number[] = [];
      const agent$: number[] = [];
      for (let i = 0; i < runs; i++) {
        forget(ref, digest);
        let start = performance.now();
        await run('docker', ['pull', '-q', ref]);
        docker$.push(performance.now() - start);
        forget(ref, digest);
        start = performance.now();
        await images.obtain(ref, `bench-${label}-${i}`, () => {}, new AbortController().signal);
        agent$.push(performance.now() - start);
      }
      forget(ref, digest);
      const base = median(docker$);
      const rate = measuredRate(images.store.recentPullsFrom(host, MIN_MEASURED_PULL_BYTES, 5)) ?? 0;
      const via = rate >= FAST_SOURCE_BYTES_PER_S ? 'probed fast: the engine directly' : 'probed slow: through the cache';
      console.log(`pull ${label}: docker pull ${s(base)} (${docker$.map(s).join(', ')}); agent, first pull from this source (${via}) ${s(agent$[0]!)}: ratio ${(agent$[0]! / base).toFixed(2)} (target ≤ 1.1)`);
      if (runs > 1) {
        const later = agent$.slice(1);
        const how = rate >= FAST_SOURCE_BYTES_PER_S ? 'measured fast, pulled directly' : 'measured slow, still through the cache';
        console.log(`  later pulls (${(rate / 1e6).toFixed(0)} MB/s: ${how}) ${later.map(s).join(', ')}: ratio ${(median(later) / base).toFixed(2)} (target ≤ 1.1)`);
      }
    };
    await compare(image.ref, image.digest, `of ${(image.compressedBytes / 1e9).toFixed(2)} GB from the registry on loopback`, 3);
    const linkGb = Number(process.env.OFFSHIFT_BENCH_LINK_GB ?? 0.4);
    const small = await pushRandomImage(registry, { repository: 'bench/link', layerBytes: [Math.floor((linkGb * 1e9) / 2), Math.floor((linkGb * 1e9) / 2)], seed: `link-${Date.now()}` });
    const link = await startSlowLink(registry, 40e6);
    try {
      await compare(`${link.host}/${small.repository}@${small.digest}`, small.digest, `of ${(small.compressedBytes / 1e9).toFixed(2)} GB over a 40 MB/s link`, 2);
    } finally {
      await link.close();
    }
    const forgetBig = () => forget(image.ref, image.digest);

    const toRunning = async () => {
      const started = performance.now();
      const job = await runner!.submit({ image: image.ref, command: ['sh', '-c', 'busybox sleep 1'] });
      for (;;) {
        const state = runner!.get(job.id)!.state;
        if (state === 'running' || state === 'succeeded' || state === 'failed') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const ms = performance.now() - started;
      await runner!.wait(job.id);
      return ms;
    };
    forgetBig();
    const cold = await toRunning();
    const warm = [await toRunning(), await toRunning(), await toRunning()];
    console.log(`submit → running: cold ${s(cold)} (pulls ${(image.compressedBytes / 1e9).toFixed(2)} GB), warm ${s(median(warm))} (median of 3); cold/warm ${(cold / median(warm)).toFixed(0)}×`);
    forgetBig();
  } finally {
    await runner.close();
    await images.close();
    db.close();
    cleanup();
    await registry.remove();
  }
}

/** The plan over 1,000 recorded images, read from SQLite as the store does. */
function planningBench(): void {
  const { home, cleanup } = makeTempHome('offshift-bench-plan-');
  const db = openDatabase(path.join(home, DATABASE_FILE));
  try {
    const store = new ImageStore(db);
    for (let i = 0; i < 1000; i++) {
      const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
      store.begin(`registry.example/app${i}@${digest}`, digest, `registry.example/app${i}`, 3e9, false);
      store.pulled(`registry.example/app${i}@${digest}`, `sha256:${(i + 1).toString(16).padStart(64, 'f')}`, 6e9 + i, 1_700_000_000_000 + i * 1000);
      if (i % 7 === 0) store.used(`registry.example/app${i}@${digest}`, 1_700_000_500_000 + i);
      if (i % 50 === 0) store.setPinned(`registry.example/app${i}@${digest}`, true);
    }
    const times: number[] = [];
    for (let run = 0; run < 200; run++) {
      const t = performance.now();
      const candidates: EvictionCandidate[] = store.all().map((r) => ({ ref: r.ref, sizeBytes: r.size_bytes, lastUsedAt: r.last_used_at ?? r.pulled_at ?? 0, pinned: r.pinned === 1, inUse: r.jobs_run % 3 === 1 }));
      const used = candidates.reduce((sum, c) => sum + c.sizeBytes, 0);
      const plan = planFit(candidates, { usedBytes: used, budgetBytes: used - 40e9, freeDiskBytes: 200e9, minFreeBytes: 32 * 1024 ** 3, reservedBytes: 0 }, 20e9);
      times.push(performance.now() - t);
      if (!plan.fits) throw new Error('the bench plan should fit');
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(`planning an eviction with 1,000 recorded images (store read + plan): median ${median(times).toFixed(2)} ms, p99 ${sorted[Math.floor(sorted.length * 0.99)]!.toFixed(2)} ms (target < 10 ms)`);
  } finally {
    db.close();
    cleanup();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
