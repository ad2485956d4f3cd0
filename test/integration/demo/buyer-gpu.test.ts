/**
 * The demo buyer's GPU jobs on a machine with an NVIDIA GPU but no NVIDIA container runtime in
 * Docker (issue 15), end to end: a real `offshift agent` with its demo network (anvil, the market
 * and the demo buyer in their detached process) and a fake nvidia-smi first on its PATH printing
 * an RTX 3080 with a CUDA 13 driver. This machine's Docker has no NVIDIA runtime, so the buyer
 * must send CPU jobs only (also the even-numbered ones, which are GPU jobs where the runtime is)
 * and say why: in `demo status` and in the agent's market.status (`demoJobs`), which the
 * Marketplace page reads. Sending a GPU job for real needs a GPU: not here.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../../runtime/api/client.js';
import { connectWebSocket } from '../../../runtime/api/transports/websocket-client.js';
import { REASON_NO_RUNTIME } from '../../../runtime/demo/gpu-jobs.js';
import { findDemoBinary } from '../../../runtime/demo/image.js';
import { makeFakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { startHeadlessAgent, type HeadlessAgent } from '../../helpers/headless-agent.js';
import { removeAgentLeftovers } from '../../helpers/leftovers.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { dockerAvailable } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';
import { killAllOf } from './processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'dist', 'runtime', 'cli.js');

function dockerHasNvidiaRuntime(): boolean {
  try {
    return /"nvidia"/.test(execFileSync('docker', ['info', '--format', '{{json .Runtimes}}'], { encoding: 'utf8', timeout: 10_000 }));
  } catch {
    return false;
  }
}

const skip = !fs.existsSync(CLI)
  ? 'the CLI is not built (npm run build)'
  : !findDemoBinary()
    ? 'the demo renderer is not built'
    : !dockerAvailable()
      ? 'the Docker engine is not reachable'
      : dockerHasNvidiaRuntime()
        ? "Docker here has the NVIDIA runtime: this test is of a machine without it (with it, the demo buyer would send GPU jobs, which a fake nvidia-smi cannot run)"
        : null;
if (skip) console.warn(`[skipped] the demo buyer with an NVIDIA GPU and no NVIDIA runtime: ${skip}`);

interface Status {
  running: boolean;
  detail: string;
  market: { url: string | null };
  buyer: { jobsSubmitted: number; gpuJobsSubmitted: number; problem: string | null; jobs: { gpu: boolean; reason: string } | null };
}

describe.skipIf(skip !== null)('the demo buyer on a machine with an NVIDIA GPU and Docker without the NVIDIA runtime', () => {
  const temp = makeTempHome('offshift-demo-gpu-');
  const fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_rtx3080_driver595.58.03_v13.xml' });
  const env: NodeJS.ProcessEnv = fake.env({
    ...process.env,
    OFFSHIFT_HOME: temp.home,
    OFFSHIFT_DEMO_IN_PROCESS: '0',
    // Short pauses, so that a few jobs go by.
    OFFSHIFT_DEMO_PAUSE_SECONDS: '1',
    OFFSHIFT_DEMO_RETRY_SECONDS: '1',
  });
  delete env.OFFSHIFT_MARKET;
  let agent: HeadlessAgent | null = null;
  let client: Client | null = null;

  afterAll(async () => {
    client?.close();
    await agent?.stop();
    killAllOf(temp.home);
    removeAgentLeftovers(temp.home);
    fake.cleanup();
    temp.cleanup();
  });

  const status = (): Status => JSON.parse(execFileSync(process.execPath, [CLI, 'demo', 'status', '--json'], { env, encoding: 'utf8', timeout: 30_000 })) as Status;
  const demoLog = () => {
    try {
      return fs.readFileSync(path.join(temp.home, 'demo', 'demo.log'), 'utf8').split('\n').slice(-12).join('\n');
    } catch {
      return '';
    }
  };

  it('sends CPU jobs only, also where a GPU job would come, and says why: demo status and market.status', async () => {
    agent = await startHeadlessAgent(env, { timeoutMs: 60_000 });
    // Three jobs: the second was chosen once the agent had advertised its GPU, and the state holds the reason.
    const s = await until(
      'the demo buyer has submitted three jobs',
      () => {
        const now = status();
        return now.running && now.buyer.jobsSubmitted >= 3 && now.buyer.jobs ? now : null;
      },
      240_000,
      { intervalMs: 1000, detail: () => `${JSON.stringify(status())}\nagent stderr: ${agent!.stderr().slice(-1500)}\ndemo.log: ${demoLog()}` },
    );
    expect(s.buyer.jobs).toEqual({ gpu: false, reason: REASON_NO_RUNTIME });
    expect(s.buyer.jobs!.reason).toContain('Docker has no NVIDIA container runtime: install the NVIDIA Container Toolkit');
    expect(s.buyer.gpuJobsSubmitted).toBe(0);
    expect(s.detail).toContain(REASON_NO_RUNTIME);

    // The premise: the agent saw the (fake) NVIDIA card and advertised it on the demo market.
    const http = s.market.url!.replace(/^ws/, 'http');
    const providers = (await (await fetch(new URL('/v1/providers', http))).json()) as { connected: boolean; ad: { gpus: { vendor: string; model: string }[] } | null }[];
    expect(providers.filter((p) => p.connected).flatMap((p) => p.ad?.gpus ?? [])).toEqual([expect.objectContaining({ vendor: 'nvidia', model: 'NVIDIA GeForce RTX 3080' })]);
    expect(fake.calls().some((c) => c.tool === 'nvidia-smi')).toBe(true);

    // Every job the buyer sent asked for no GPU, the even-numbered ones too.
    const jobs = (await (await fetch(new URL('/v1/jobs', http))).json()) as { gpus: number; state: string }[];
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    expect(jobs.map((j) => j.gpus)).toEqual(jobs.map(() => 0));
    expect(jobs.some((j) => j.state === 'succeeded')).toBe(true);

    // The agent tells the dashboard (the Marketplace page) the same.
    const token = fs.readFileSync(path.join(temp.home, 'api-token'), 'utf8').trim();
    client = createClient(await connectWebSocket(agent.port, token));
    const market = await client.call('market.status', {});
    expect(market.network).toBe('demo');
    expect(market.demoJobs).toEqual({ gpu: false, reason: REASON_NO_RUNTIME });
  }, 330_000);
});
