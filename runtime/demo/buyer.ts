/**
 * The demo buyer: keeps one demo render job in flight on the demo market, pays each usage report
 * with a voucher from its escrow deposit (topped up from the local chain when it runs low), and
 * pauses between jobs. Where the provider can run them (an NVIDIA GPU, Docker's NVIDIA container
 * runtime: gpu-jobs.ts), every other job is a GPU job (gpu-image.ts); elsewhere it says why it
 * sends CPU jobs only (`onJobs`). Every step has a time limit, and a problem (a full disk, a
 * market that does not answer, a job that never ends) costs one try: it is reported, and the
 * buyer tries again.
 * When `signal` aborts it returns at once: it never waits for a job to end (the provider may be
 * the very agent that is stopping).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Contract, Wallet } from 'ethers';
import { ANVIL_KEYS } from '../chain/anvil.js';
import { ESCROW_ABI } from '../chain/abi.js';
import type { DevnetInfo } from './devnet.js';
import { depositToEscrow, mintTokens, tokens } from '../chain/deploy.js';
import { makeProvider } from '../chain/provider.js';
import type { Logger } from '../log.js';
import type { JobRequest } from '../../protocol/index.js';
import { decideDemoJobs, demoJobKind, gpuDecline, type DemoGpuFacts, type DemoJobs } from './gpu-jobs.js';
import type { DemoTimings } from './timing.js';
import { bounded, pause, Stopped } from './waits.js';

const LOW_DEPOSIT = tokens('50');
/** How long topping up the deposit on the local chain may take. */
const CHAIN_TIMEOUT_MS = 30_000;
/** How long learning the provider's GPUs and the engine's runtimes may take. */
const FACTS_TIMEOUT_MS = 10_000;
/** How long making the GPU job's image may take. */
const IMAGE_TIMEOUT_MS = 60_000;
/** How often the market is asked whether a GPU job was declined (it does not tell the buyer). */
const DECLINE_POLL_MS = 1000;

/** What the demo buyer needs to send GPU jobs too (serve.ts). Without it, CPU jobs only. */
export interface DemoGpuSource {
  /** The provider as the demo market knows it, the engine's runtimes, whether the program is built. */
  facts(): Promise<Pick<DemoGpuFacts, 'provider' | 'nvidiaRuntime' | 'engineError' | 'programBuilt'>>;
  /** The GPU job's image id (made at the first GPU job). */
  image(): Promise<string>;
  /** The market's state and reason for a job, null when it does not know it. */
  job(jobId: string): { state: string; reason: string } | null;
  /** What a GPU job pays an hour, base units. */
  pricePerHour: bigint;
  /** The `n`th GPU job. */
  request(imageId: string, n: number): JobRequest;
}

export interface DemoBuyerOptions {
  marketUrl: string;
  chain: DevnetInfo;
  imageId: string;
  /** Where the jobs' pictures go (the last five are kept). */
  outputs: string;
  /** How many jobs were submitted before (the count goes on across restarts). */
  jobsSubmitted: number;
  timings: DemoTimings;
  log: Logger;
  signal: AbortSignal;
  /** GPU jobs where the provider can run them; none: CPU jobs only. */
  gpu?: DemoGpuSource;
  /** `kind`: the job just submitted ran on the GPU or the CPU. */
  onSubmitted(count: number, kind: 'gpu' | 'cpu'): void;
  onProblem(message: string): void;
  /** Whether GPU jobs are in the mix, and why not; told when it changes. */
  onJobs?(jobs: DemoJobs): void;
}

export async function runDemoBuyer(o: DemoBuyerOptions): Promise<void> {
  const { BuyerClient } = await import('../../buyer/index.js');
  const { demoJobRequest } = await import('./image.js');
  const buyer = new Wallet(o.chain.buyer.privateKey);
  const t = o.timings;
  let client: Awaited<ReturnType<typeof BuyerClient.connect>> | null = null;
  let submitted = o.jobsSubmitted;
  const mix = jobMix(o, demoJobRequest);
  try {
    while (!o.signal.aborted) {
      let ok = false;
      try {
        await bounded(topUpDeposit(o.chain, buyer.address), o.signal, CHAIN_TIMEOUT_MS, `The local chain did not answer within ${CHAIN_TIMEOUT_MS / 1000} s (topping up the demo buyer's deposit).`);
        if (!client) {
          const connecting = BuyerClient.connect({ market: o.marketUrl, signer: buyer, agent: 'offshift-demo-buyer', expectChainId: o.chain.chainId, expectEscrow: o.chain.escrow });
          try {
            client = await bounded(connecting, o.signal, t.submitTimeoutMs, `The demo market did not sign the demo buyer in within ${t.submitTimeoutMs / 1000} s.`);
          } catch (error) {
            // A connection that arrives after a stop or a timeout is closed, not left open.
            connecting.then((c) => c.close(), () => {});
            throw error;
          }
        }
        const n = submitted + 1;
        const dir = path.join(o.outputs, String(n % 5));
        fs.rmSync(dir, { recursive: true, force: true });
        // One attempt: the demo network has one provider, and a preempted job is never placed on the same provider again.
        const next = await mix.next(n);
        const handle = await bounded(client.submit(next.request, { outputDir: dir, maxAttempts: 1 }), o.signal, t.submitTimeoutMs, `The demo market did not take the demo buyer's job within ${t.submitTimeoutMs / 1000} s (is its disk full? see demo/demo.log).`);
        submitted = n;
        o.onSubmitted(n, next.kind);
        try {
          const ending = next.kind === 'gpu' ? mix.watchGpuJob(handle.jobId, handle.result) : handle.result;
          const result = await bounded(ending, o.signal, t.resultTimeoutMs, `Demo job ${handle.jobId} did not end within ${Math.round(t.resultTimeoutMs / 1000)} s: cancelled; the buyer submits a new one.`);
          if ('declined' in result) {
            // The market keeps a declined job queued for the next provider; there is none: given up at once.
            handle.cancel();
            mix.gpuFailed(result.declined);
            o.log.warn('GPU demo job declined', { jobId: handle.jobId, why: result.declined });
          } else {
            o.log.info('demo job ended', { jobId: result.jobId, state: result.state, kind: next.kind, paid: result.paid, provider: result.provider });
            if (next.kind === 'gpu' && (result.state === 'failed' || result.state === 'timed-out')) {
              mix.gpuFailed(`it ended ${result.state}${result.detail ? `: ${result.detail}` : result.exitCode !== null ? ` with exit code ${result.exitCode}` : ''}`);
            }
          }
          ok = true;
        } catch (error) {
          // Stopping or given up: the market is told (best effort); nobody waits for the answer.
          handle.cancel();
          if (next.kind === 'gpu' && !(error instanceof Stopped) && !o.signal.aborted) mix.gpuFailed((error as Error).message);
          throw error;
        }
      } catch (error) {
        if (error instanceof Stopped || o.signal.aborted) break;
        o.onProblem((error as Error).message);
        o.log.warn('demo buyer problem', { error: (error as Error).message });
        client?.close();
        client = null;
      }
      await pause(ok ? t.pauseMs : t.retryMs, o.signal);
    }
  } finally {
    client?.close();
  }
}

type Declined = { declined: string };

/**
 * The buyer's choice of job: a CPU job, or where the provider can run them every other job on the
 * GPU (gpu-jobs.ts decides, from facts gathered before each job). Keeps the last GPU job that did
 * not run here, and tells `onJobs` when the decision changes.
 */
function jobMix(o: DemoBuyerOptions, cpuRequest: (imageId: string, n: number) => JobRequest) {
  let lastGpuFailure: DemoGpuFacts['lastGpuFailure'] = null;
  let facts: Pick<DemoGpuFacts, 'provider' | 'nvidiaRuntime' | 'engineError' | 'programBuilt'> | null = null;
  let told: DemoJobs | null = null;
  const decide = (): DemoJobs | null =>
    o.gpu && facts ? decideDemoJobs({ ...facts, gpuPricePerHour: o.gpu.pricePerHour, lastGpuFailure, now: Date.now() }) : null;
  const tell = (jobs: DemoJobs | null) => {
    if (!jobs || (told && told.gpu === jobs.gpu && told.reason === jobs.reason)) return;
    told = jobs;
    o.log.info(jobs.gpu ? 'demo buyer: GPU jobs too' : 'demo buyer: CPU jobs only', { reason: jobs.reason });
    o.onJobs?.(jobs);
  };
  const gpuFailed = (message: string) => {
    lastGpuFailure = { message, at: Date.now() };
    tell(decide());
  };
  return {
    gpuFailed,
    async next(n: number): Promise<{ request: JobRequest; kind: 'gpu' | 'cpu' }> {
      const cpu = { request: cpuRequest(o.imageId, n), kind: 'cpu' as const };
      const gpu = o.gpu;
      if (!gpu) return cpu;
      try {
        facts = await bounded(gpu.facts(), o.signal, FACTS_TIMEOUT_MS, `The provider's GPUs and the engine's runtimes were not known within ${FACTS_TIMEOUT_MS / 1000} s.`);
      } catch (error) {
        if (error instanceof Stopped) throw error;
        o.log.warn('demo buyer: a CPU job, the GPU facts are unknown', { error: (error as Error).message });
        return cpu;
      }
      const jobs = decide()!;
      tell(jobs);
      if (demoJobKind(jobs, n, facts.provider?.freeGpus ?? 0) !== 'gpu') return cpu;
      try {
        const imageId = await bounded(gpu.image(), o.signal, IMAGE_TIMEOUT_MS, `the GPU demo job's image was not made within ${IMAGE_TIMEOUT_MS / 1000} s`);
        return { request: gpu.request(imageId, n), kind: 'gpu' };
      } catch (error) {
        if (error instanceof Stopped) throw error;
        gpuFailed(`its image could not be made: ${(error as Error).message}`);
        return cpu;
      }
    },
    /** The job's result, or `declined` as soon as the market says the provider declined it for a GPU reason. */
    watchGpuJob<T>(jobId: string, result: Promise<T>): Promise<T | Declined> {
      const gpu = o.gpu!;
      let timer: NodeJS.Timeout | undefined;
      const declined = new Promise<Declined>((resolve) => {
        const poll = () => {
          const why = gpuDecline(gpu.job(jobId));
          if (why) resolve({ declined: why });
          else timer = setTimeout(poll, DECLINE_POLL_MS);
        };
        timer = setTimeout(poll, DECLINE_POLL_MS);
      });
      return Promise.race([result, declined]).finally(() => clearTimeout(timer));
    },
  };
}

/** The demo buyer's escrow deposit, topped up from the local chain when it runs low. */
async function topUpDeposit(chain: DevnetInfo, buyerAddress: string): Promise<void> {
  const provider = makeProvider(chain.rpcUrl, chain.chainId);
  try {
    const deposit = (await new Contract(chain.escrow, ESCROW_ABI, provider).getFunction('deposits')(buyerAddress)) as bigint;
    if (deposit >= LOW_DEPOSIT) return;
    const deployer = new Wallet(ANVIL_KEYS[0], provider);
    await mintTokens(deployer, chain.token, buyerAddress, tokens('1000'));
    await depositToEscrow(new Wallet(chain.buyer.privateKey, provider), chain.token, chain.escrow, tokens('1000'));
  } finally {
    provider.destroy();
  }
}
