/**
 * The demo buyer's choice of GPU jobs (issue 15), pure: GPU jobs in the mix (every other job)
 * only with an NVIDIA GPU and Docker's NVIDIA container runtime, and otherwise the reason, in
 * order. Real GPUs come from the nvidia-smi and rocm-smi captures in test/fixtures/gpu, through
 * the agent's own parsers and advertisement.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decideDemoJobs,
  demoJobKind,
  demoProvider,
  GPU_FAILURE_PAUSE_MS,
  gpuDecline,
  isPreTuring,
  REASON_NO_NVIDIA,
  REASON_NO_RUNTIME,
  type DemoGpuFacts,
  type DemoProvider,
} from '../../../runtime/demo/gpu-jobs.js';
import { DEMO_GPU_PRICE_PER_HOUR } from '../../../runtime/demo/gpu-image.js';
import { parseNvidiaSmiReport } from '../../../runtime/gpu/nvidia-xml.js';
import { parseRocmSmiReport, parseRocmSmiText } from '../../../runtime/gpu/rocm-json.js';
import { parseXml } from '../../../runtime/gpu/xml.js';
import type { Gpu } from '../../../runtime/gpu/schema.js';
import { advertisedGpus } from '../../../runtime/market/resources.js';
import { gpuFixture } from '../../helpers/fake-gpu-tools.js';

const FLOORS = { minPricePerGpuHour: (25n * 10n ** 16n).toString(), minPricePerJobHour: (10n ** 17n).toString() };

function provider(gpus: Gpu[], freeGpus = gpus.length): DemoProvider {
  return { gpus: advertisedGpus(gpus, new Map()), freeGpus, prices: FLOORS };
}

async function nvidia(file: string): Promise<Gpu[]> {
  return parseNvidiaSmiReport(await parseXml(fs.readFileSync(gpuFixture(file), 'utf8')));
}

const NOW = Date.parse('2026-03-01T12:00:00Z');

function facts(p: DemoProvider | null, more: Partial<DemoGpuFacts> = {}): DemoGpuFacts {
  return { provider: p, nvidiaRuntime: true, engineError: null, programBuilt: true, gpuPricePerHour: DEMO_GPU_PRICE_PER_HOUR, lastGpuFailure: null, now: NOW, ...more };
}

describe('which demo jobs come: GPU jobs where the provider can run them, else CPU only and why', () => {
  it('an NVIDIA GPU (driver for CUDA 13) and the NVIDIA container runtime: GPU jobs in the mix, every other job', async () => {
    const p = provider(await nvidia('nvidia-smi-q-x_rtx3080_driver595.58.03_v13.xml'));
    const jobs = decideDemoJobs(facts(p));
    expect(jobs.gpu).toBe(true);
    expect(jobs.reason).toMatch(/GPU jobs too: every other demo job renders on the NVIDIA GeForce RTX 3080/);
    expect([1, 2, 3, 4, 5, 6].map((n) => demoJobKind(jobs, n, 1))).toEqual(['cpu', 'gpu', 'cpu', 'gpu', 'cpu', 'gpu']);
    // No GPU free at this moment (the owner's own job holds it): this one is a CPU job.
    expect(demoJobKind(jobs, 2, 0)).toBe('cpu');
    // Two Turing cards, driver 590: GPU jobs too.
    expect(decideDemoJobs(facts(provider(await nvidia('nvidia-smi-q-x_2x-rtx2070_driver590.44.01.xml')))).gpu).toBe(true);
  });

  it('no GPU at all: CPU only, "no NVIDIA GPU"', () => {
    const jobs = decideDemoJobs(facts(provider([])));
    expect(jobs).toEqual({ gpu: false, reason: REASON_NO_NVIDIA });
    expect(jobs.reason).toMatch(/No NVIDIA GPU/);
    expect([1, 2, 3, 4].map((n) => demoJobKind(jobs, n, 0))).toEqual(['cpu', 'cpu', 'cpu', 'cpu']);
  });

  it('an NVIDIA GPU but no NVIDIA container runtime in Docker: CPU only, with what to install', async () => {
    const jobs = decideDemoJobs(facts(provider(await nvidia('nvidia-smi-q-x_rtx3080_driver595.58.03_v13.xml')), { nvidiaRuntime: false }));
    expect(jobs).toEqual({ gpu: false, reason: REASON_NO_RUNTIME });
    expect(jobs.reason).toContain('Docker has no NVIDIA container runtime: install the NVIDIA Container Toolkit');
    expect(demoJobKind(jobs, 2, 1)).toBe('cpu');
  });

  it('AMD and Intel GPUs: CPU only, naming the card and why (the GPU job is CUDA)', () => {
    const amd = parseRocmSmiReport(parseRocmSmiText(fs.readFileSync(gpuFixture('rocm-smi-json_rx6700xt_rocm6.0.2.json'), 'utf8')));
    expect(amd.length).toBeGreaterThan(0);
    const a = decideDemoJobs(facts(provider(amd)));
    expect(a.gpu).toBe(false);
    expect(a.reason).toMatch(/^No NVIDIA GPU: this computer's GPU is .+ \(AMD\), and the demo's GPU job is a CUDA program, which needs an NVIDIA GPU/);
    // Four of one card: named once.
    const mi100 = parseRocmSmiReport(parseRocmSmiText(fs.readFileSync(gpuFixture('rocm-smi-json_4x-mi100_rocm6.0.2.json'), 'utf8')));
    expect(decideDemoJobs(facts(provider(mi100))).reason).toMatch(/^No NVIDIA GPU: this computer's GPUs are [^,]+ \(AMD\), and the demo's GPU job/);
    const intel: DemoProvider = { gpus: [{ vendor: 'intel', model: 'Intel Arc A770', driver: null, cudaVersion: null }], freeGpus: 1, prices: FLOORS };
    expect(decideDemoJobs(facts(intel)).reason).toMatch(/GPU is Intel Arc A770 \(Intel\).*CUDA/);
    const apple: DemoProvider = { gpus: [{ vendor: 'apple', model: 'Apple M2', driver: null, cudaVersion: null }], freeGpus: 1, prices: FLOORS };
    expect(decideDemoJobs(facts(apple))).toMatchObject({ gpu: false, reason: expect.stringMatching(/Apple M2 \(Apple\)/) });
    // The NVIDIA card decides where there is one beside another vendor's.
    const mixed: DemoProvider = { gpus: [...intel.gpus, { vendor: 'nvidia', model: 'NVIDIA GeForce RTX 4070', driver: '580.65.06', cudaVersion: '13.0' }], freeGpus: 2, prices: FLOORS };
    expect(decideDemoJobs(facts(mixed)).gpu).toBe(true);
  });

  it('the agent has not advertised yet: CPU jobs until it does', () => {
    expect(decideDemoJobs(facts(null))).toEqual({ gpu: false, reason: expect.stringMatching(/has not told the demo market about its GPUs yet/) });
  });

  it('the GPU program not built (no nvcc where Offshift was built): CPU only, and how to build it', async () => {
    const jobs = decideDemoJobs(facts(provider(await nvidia('nvidia-smi-q-x_rtx3080_driver595.58.03_v13.xml')), { programBuilt: false }));
    expect(jobs).toEqual({ gpu: false, reason: expect.stringMatching(/not built .*render-cuda.*nvcc/) });
  });

  it('Docker cannot be asked: CPU only, with its words', async () => {
    const jobs = decideDemoJobs(facts(provider(await nvidia('nvidia-smi-q-x_rtx3080_driver595.58.03_v13.xml')), { nvidiaRuntime: null, engineError: 'connect ENOENT /var/run/docker.sock' }));
    expect(jobs).toEqual({ gpu: false, reason: expect.stringContaining('(connect ENOENT /var/run/docker.sock)') });
  });

  it('a driver older than CUDA 13 (580): CPU only, with the version', async () => {
    for (const file of ['nvidia-smi-q-x_rtx3060_driver570.124.04.xml', 'nvidia-smi-q-x_rtx3090_driver525.147.05.xml', 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml']) {
      const jobs = decideDemoJobs(facts(provider(await nvidia(file))));
      expect(jobs.gpu, file).toBe(false);
      expect(jobs.reason, file).toMatch(/The NVIDIA driver \d+\.[\d.]+ \(CUDA [\d.]+\) is too old for the demo's GPU job, which is built with CUDA 13: update the driver to 580 or newer/);
    }
    // The runtime's absence is said first: both need doing, and the toolkit is the first step.
    expect(decideDemoJobs(facts(provider(await nvidia('nvidia-smi-q-x_rtx3060_driver570.124.04.xml')), { nvidiaRuntime: false })).reason).toBe(REASON_NO_RUNTIME);
  });

  it('a card older than Turing (CUDA 13 builds for none): CPU only, naming it, though the driver is new enough', async () => {
    const gtx1070 = (await nvidia('nvidia-smi-q-x_6x-gtx1070_driver384.66_processes.xml')).map((g) => ({ ...g, driverVersion: '580.95.05', cudaVersion: '13.0' }));
    const jobs = decideDemoJobs(facts(provider(gtx1070)));
    expect(jobs).toEqual({ gpu: false, reason: expect.stringMatching(/^The GeForce GTX 1070 is older than the demo's GPU job supports/) });
  });

  it('tells pre-Turing cards from Turing and newer by name', () => {
    const old = ['GeForce GTX 1070', 'NVIDIA GeForce GTX 1080 Ti', 'GeForce GTX 960', 'NVIDIA GeForce GT 1030', 'GeForce GT 730', 'Quadro P2000', 'Quadro P400', 'Quadro M4000', 'Quadro GV100', 'Tesla V100-SXM3-32GB', 'Tesla P4', 'Tesla K80', 'GRID P4-1Q', 'NVIDIA TITAN Xp', 'TITAN V', 'GeForce MX150', 'GeForce 940MX', 'GeForce GTX TITAN X'];
    const fine = ['NVIDIA GeForce GTX 1660 Ti', 'GeForce GTX 1650', 'NVIDIA GeForce RTX 2070', 'NVIDIA GeForce RTX 3080', 'NVIDIA GeForce RTX 4090', 'NVIDIA GeForce RTX 5090', 'Tesla T4', 'NVIDIA A100-SXM4-80GB', 'NVIDIA A10G', 'NVIDIA H100 80GB HBM3', 'NVIDIA H200', 'Quadro RTX 4000', 'NVIDIA TITAN RTX', 'Quadro T1000', 'NVIDIA RTX A4000', 'NVIDIA GeForce MX450', 'NVIDIA L40S', 'Graphics Device'];
    expect(old.filter((n) => !isPreTuring(n))).toEqual([]);
    expect(fine.filter((n) => isPreTuring(n))).toEqual([]);
  });

  it("the owner's GPU price floor above the GPU job's price: CPU only, with both prices", async () => {
    const p = { ...provider(await nvidia('nvidia-smi-q-x_rtx3080_driver595.58.03_v13.xml')), prices: { ...FLOORS, minPricePerGpuHour: (50n * 10n ** 18n).toString() } };
    expect(decideDemoJobs(facts(p))).toEqual({ gpu: false, reason: 'Your price floor for a GPU job (50 tokens an hour) is above what the demo buyer pays for its GPU job (36 an hour): CPU jobs only.' });
    // At the price exactly: GPU jobs.
    expect(decideDemoJobs(facts({ ...p, prices: { ...FLOORS, minPricePerGpuHour: DEMO_GPU_PRICE_PER_HOUR.toString() } })).gpu).toBe(true);
  });

  it('a GPU job that did not run here pauses GPU jobs for 30 minutes, with its words, then they come again', async () => {
    const p = provider(await nvidia('nvidia-smi-q-x_rtx3080_driver595.58.03_v13.xml'));
    const failure = { message: 'it ended failed with exit code 3', at: NOW - 60_000 };
    const paused = decideDemoJobs(facts(p, { lastGpuFailure: failure }));
    expect(paused).toEqual({ gpu: false, reason: 'The last GPU demo job did not run here (it ended failed with exit code 3): CPU jobs only until 12:29 UTC, then the demo buyer tries the GPU again.' });
    expect(decideDemoJobs(facts(p, { lastGpuFailure: failure, now: failure.at + GPU_FAILURE_PAUSE_MS })).gpu).toBe(true);
  });

  it('the provider is the connected one that advertised, the newest first', async () => {
    const gpus = advertisedGpus(await nvidia('nvidia-smi-q-x_rtx3080_driver595.58.03_v13.xml'), new Map());
    const ad = (g: typeof gpus, freeGpus: number) => ({ gpus: g, freeGpus, prices: FLOORS }) as never;
    expect(demoProvider([])).toBeNull();
    expect(demoProvider([{ connected: true, connectedAt: 5, ad: null }])).toBeNull();
    expect(demoProvider([{ connected: false, connectedAt: 9, ad: ad(gpus, 1) }])).toBeNull();
    const chosen = demoProvider([
      { connected: true, connectedAt: 5, ad: ad([], 0) },
      { connected: true, connectedAt: 7, ad: ad(gpus, 1) },
      { connected: false, connectedAt: 9, ad: ad([], 0) },
    ]);
    expect(chosen).toEqual({ gpus, freeGpus: 1, prices: FLOORS });
  });

  it('a GPU job declined for a reason of the GPU is given up; other declines and states are not', () => {
    expect(gpuDecline({ state: 'queued', reason: 'declined: sandbox-refused' })).toBe('the agent declined it: sandbox-refused');
    expect(gpuDecline({ state: 'queued', reason: 'declined: not-enough-gpus' })).toBe('the agent declined it: not-enough-gpus');
    expect(gpuDecline({ state: 'queued', reason: 'declined: price-below-floor' })).toBe('the agent declined it: price-below-floor');
    expect(gpuDecline({ state: 'queued', reason: 'declined: not-available' })).toBeNull();
    expect(gpuDecline({ state: 'queued', reason: 'no-provider' })).toBeNull();
    expect(gpuDecline({ state: 'running', reason: 'declined: sandbox-refused' })).toBeNull();
    expect(gpuDecline(null)).toBeNull();
  });
});
