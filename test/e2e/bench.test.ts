/**
 * Benchmarks on the GPUs page, end to end: a real headless agent (`node dist/runtime/cli.js
 * agent`) with a fake nvidia-smi (a real RTX 3090 capture) and, in place of the CUDA program on
 * a GPU, a stand-in that prints a fixture of the program's exact form; the built dashboard in
 * real Chromium with WebGPU enabled. The WebGPU benchmark runs for real on Chromium's adapter
 * (here SwiftShader, the software adapter: no GPU on this machine) and its result, naming the
 * adapter, reaches the agent and the page.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../runtime/api/client.js';
import { connectWebSocket } from '../../runtime/api/transports/websocket-client.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../helpers/fake-gpu-tools.js';
import { hasChromium, launchChromium, requireBuilt, ROOT, startHeadlessAgent, warnIfNoChromium, type HeadlessAgent } from '../helpers/headless-agent.js';
import { makeTempHome } from '../helpers/temp-home.js';

warnIfNoChromium('benchmark tests');

describe.skipIf(!hasChromium)('benchmarks on the GPUs page (real agent, real Chromium, WebGPU)', () => {
  let fake: FakeGpuTools;
  let home: { home: string; cleanup: () => void };
  let agent: HeadlessAgent | undefined;
  let url = '';
  let browser: Browser;
  let page: Page;
  let api: Client;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requireBuilt();
    fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_rtx3090_driver525.147.05.xml' });
    home = makeTempHome('offshift-e2e-bench-');
    const program = path.join(home.home, 'bench-standin.sh');
    fs.writeFileSync(program, `#!/bin/sh\nsleep 2\ncat "${path.join(ROOT, 'test', 'fixtures', 'bench', 'rtx3090-full.synthetic.json')}"\n`, { mode: 0o755 });
    agent = await startHeadlessAgent(fake.env({ ...process.env, OFFSHIFT_HOME: home.home, OFFSHIFT_BENCH_PROGRAM: program }));
    url = agent.url;
    api = createClient(await connectWebSocket(agent.port, agent.token));
    browser = await launchChromium({ webgpu: true });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1200 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
  }, 90_000);

  afterAll(async () => {
    api?.close();
    await browser?.close().catch(() => {});
    await agent?.stop();
    fake?.cleanup();
    home?.cleanup();
  });

  it('runs the WebGPU benchmark in the page, names the adapter, and the agent scores and stores it', async () => {
    await expect.poll(() => page.getByTestId('gpu-card').count(), { timeout: 15_000 }).toBe(1);
    await page.getByTestId('bench-run-webgpu').click();
    await expect.poll(() => page.getByTestId('bench-webgpu-progress').count(), { timeout: 15_000 }).toBe(1);
    const result = page.getByTestId('bench-webgpu-result');
    await expect.poll(async () => (await result.count()) || (await page.getByTestId('bench-webgpu-error').textContent().catch(() => null)), { timeout: 120_000, interval: 500 }).toBe(1);
    const text = (await result.textContent()) ?? '';
    expect(text).toMatch(/WebGPU on .+/);
    expect(await result.getByTestId('bench-score').textContent()).toMatch(/^\d+(\.\d)?$/);

    const { entries } = await api.call('bench.history', {});
    const webgpu = entries.find((e) => e.result.backend === 'webgpu')!;
    expect(webgpu.result.adapter).toBeTruthy();
    expect(text).toContain(webgpu.result.adapter!);
    expect(webgpu.result.fp32Tflops).toBeGreaterThan(0);
    expect(webgpu.result.memoryBandwidthGBps).toBeGreaterThan(0);
    // A software adapter measures the CPU: never counted for the RTX 3090, no spec ratio.
    if (/swiftshader|software/i.test(webgpu.result.adapter!)) {
      expect(webgpu.result.gpuKey.startsWith('webgpu:')).toBe(true);
      expect(webgpu.result.specRatio).toBeNull();
    }
    console.log(
      `[e2e] WebGPU adapter "${webgpu.result.adapter}": FP32 ${webgpu.result.fp32Tflops} TFLOP/s (spread ${webgpu.result.spread.fp32}), FP16 ${webgpu.result.fp16Tflops ?? 'n/a'}, copy ${webgpu.result.memoryBandwidthGBps} GB/s, score ${webgpu.result.score}, ${webgpu.result.durationS} s`,
    );
  }, 150_000);

  it('"Run benchmark" on the card shows progress, then the score, the spec ratio and the history chart', async () => {
    const card = page.getByTestId('gpu-card');
    for (let run = 0; run < 2; run++) {
      await card.getByTestId('bench-run').click();
      await expect.poll(() => card.getByTestId('bench-run').textContent(), { timeout: 10_000 }).toBe('Benchmarking…');
      await expect.poll(() => card.getByTestId('bench-progress').count(), { timeout: 10_000 }).toBe(1);
      await expect.poll(() => card.getByTestId('bench-run').textContent(), { timeout: 60_000 }).toBe('Run benchmark');
    }
    const latest = card.getByTestId('bench-latest');
    await expect.poll(() => latest.getByTestId('bench-spec-ratio').textContent(), { timeout: 10_000 }).toMatch(/^Measured at 9\d% of this card’s specification$/);
    // The page re-reads the history after the run: the newest result is compared with the one before.
    await expect.poll(() => latest.textContent(), { timeout: 15_000 }).toMatch(/The same as earlier today/);
    await expect.poll(() => card.getByTestId('bench-history-chart').count()).toBe(1);
    const { entries } = await api.call('bench.history', { gpuKey: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab' });
    expect(entries).toHaveLength(2);
    expect(await latest.getByTestId('bench-score').textContent()).toBe(entries[0]!.result.score!.toFixed(1));
    expect(pageErrors).toEqual([]);
  }, 150_000);

  it('the System check page shows the self-test: a verdict and an actionable item for each requirement', async () => {
    await page.getByTestId('nav-system').click();
    const section = page.getByTestId('self-test');
    await expect.poll(() => section.getByTestId('check-item').count(), { timeout: 30_000 }).toBe(9);
    // PCIe comes from the benchmark just run (24.6 GB/s host to GPU): above the floor.
    expect(await section.locator('[data-check-id="pcie"]').getAttribute('data-status')).toBe('pass');
    expect(await section.locator('[data-check-id="bench-spec"]').textContent()).toMatch(/at 9\d% of its specification/);
    // Driver 525 runs CUDA 12 jobs but not the CUDA 13 benchmark: a warning that says what to do.
    expect(await section.locator('[data-check-id="driver-version"]').textContent()).toMatch(/needs 580 or newer/);
    expect(await section.getByTestId('self-test-verdict').textContent()).toMatch(/^(Ready|Not ready)/);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
