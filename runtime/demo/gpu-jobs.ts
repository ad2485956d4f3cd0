/**
 * Whether the demo buyer sends GPU jobs too (issue 15), and why not where it does not. Pure: the
 * demo network gathers the facts (serve.ts) and the buyer asks before each job (buyer.ts).
 *
 * The facts come from where they are true for the provider the demo buyer serves: its GPUs from
 * its own advertisement on the demo market (what the agent's inventory found, as the agent says
 * it), the NVIDIA container runtime from the engine (the demo image is a local image, so the agent
 * that runs the demo's jobs uses the very engine the demo network built it on), and whether the
 * GPU program was built at all. A GPU job the agent did not run (declined, or it failed) pauses
 * GPU jobs for a while, with the agent's words: a fact nobody can read in advance (a driver that
 * does not load in a container, say) costs one job, not every other one.
 *
 * When GPU jobs can come, every other demo job is one (the even-numbered ones), so the owner sees
 * both the CPU and the card earn.
 */
import type { AdvertisedGpu, MarketProviderView } from '../../protocol/index.js';
import { formatTokens } from '../ledger/tokens.js';

/** What the demo buyer sends and why: `gpu` false means CPU jobs only, `reason` says why in words a person can act on. */
export interface DemoJobs {
  gpu: boolean;
  reason: string;
}

/** The provider as its advertisement tells it. */
export interface DemoProvider {
  gpus: readonly Pick<AdvertisedGpu, 'vendor' | 'model' | 'driver' | 'cudaVersion'>[];
  freeGpus: number;
  /** Its price floors, token base units an hour. */
  prices: { minPricePerGpuHour: string; minPricePerJobHour: string };
}

export interface DemoGpuFacts {
  /** The provider on the demo market; null: no agent has advertised there yet. */
  provider: DemoProvider | null;
  /** Whether the engine has the NVIDIA runtime; null when the engine could not be asked (`engineError` says why). */
  nvidiaRuntime: boolean | null;
  engineError?: string | null;
  /** Whether the GPU job's program (dist/demo-job/render-cuda) exists. */
  programBuilt: boolean;
  /** What the GPU job pays an hour, base units. */
  gpuPricePerHour: bigint;
  /** The last GPU demo job that did not run here, in words, and when (Unix ms). */
  lastGpuFailure: { message: string; at: number } | null;
  now: number;
}

/** How long GPU jobs pause after one did not run here. */
export const GPU_FAILURE_PAUSE_MS = 30 * 60_000;
/** The NVIDIA driver branch the GPU job (CUDA 13) needs: as the benchmark's (runtime/bench/self-test.ts). */
export const GPU_JOB_NVIDIA_DRIVER = 580;
const TOKEN_DECIMALS = 18;

export const REASON_NO_NVIDIA = 'No NVIDIA GPU was found on this computer, so the demo buyer sends CPU jobs only.';
export const REASON_NO_RUNTIME =
  'Docker has no NVIDIA container runtime: install the NVIDIA Container Toolkit (apt-get install nvidia-container-toolkit, then `sudo nvidia-ctk runtime configure --runtime=docker` and restart Docker) and the demo buyer sends GPU jobs too. Until then, CPU jobs only.';

const VENDOR_NAMES: Record<AdvertisedGpu['vendor'], string> = { nvidia: 'NVIDIA', amd: 'AMD', intel: 'Intel', apple: 'Apple', other: 'not NVIDIA' };

/**
 * NVIDIA cards older than Turing (compute capability under 7.5), which CUDA 13 no longer builds
 * for: Kepler, Maxwell, Pascal and Volta, by the names nvidia-smi gives them. GeForce GTX 16xx,
 * RTX, Tesla T4, TITAN RTX and Quadro RTX/T are Turing or newer.
 */
const PRE_TURING = [
  /\bGTX\s*(?:[4-9]\d{2}|10\d{2})\b/i, // GeForce GTX 480 … 1080 Ti
  /\bGTX\s*TITAN\b/i,
  /\bGT\s*(?:[1-9]\d{2}|10\d{2})\b/i, // GeForce GT 730, GT 1030
  /\bMX\s*[1-3]\d{2}\b/i, // GeForce MX110 … MX350
  /\bGeForce\s*\d{3}MX?\b/i, // GeForce 940MX, 920M
  /\bTITAN\s*(?:X|Xp|V|Black|Z)\b/i,
  /\bQuadro\s*(?:[KMP]\d|GV\d)/i, // Quadro K2200, M4000, P2000, P400, GV100
  /\bTesla\s*[KMPV]\d/i, // Tesla K80, M60, P4, P100, V100
  /\bGRID\s*[KMP]\d/i, // GRID K2, M60, P4 (virtual GPUs)
];

export function isPreTuring(model: string): boolean {
  return PRE_TURING.some((re) => re.test(model));
}

/** The driver's major version ("595.58.03" → 595); null when not known. */
function driverMajor(driver: string | null): number | null {
  const m = driver ? /^(\d+)/.exec(driver.trim()) : null;
  return m ? Number(m[1]) : null;
}

function cudaMajor(cuda: string | null): number | null {
  const m = cuda ? /^(\d+)/.exec(cuda.trim()) : null;
  return m ? Number(m[1]) : null;
}

const tokens = (units: bigint | string) => formatTokens(units, TOKEN_DECIMALS, { maxFraction: 4 });

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16) + ' UTC';
}

/**
 * Whether GPU jobs go into the demo buyer's mix, and why not. The first rule that fails is the
 * reason: the provider unknown yet, no NVIDIA GPU (an AMD, Intel or Apple one says so), the GPU
 * program not built, no NVIDIA container runtime in Docker, a driver older than CUDA 13's, a card
 * older than Turing, the owner's GPU price floor above the demo's price, a GPU job that did not run
 * here in the last 30 minutes.
 */
export function decideDemoJobs(f: DemoGpuFacts): DemoJobs {
  const cpu = (reason: string): DemoJobs => ({ gpu: false, reason });
  if (!f.provider) return cpu('The agent has not told the demo market about its GPUs yet: CPU jobs until it does.');
  const nvidia = f.provider.gpus.filter((g) => g.vendor === 'nvidia');
  if (nvidia.length === 0) {
    const others = f.provider.gpus;
    if (others.length === 0) return cpu(REASON_NO_NVIDIA);
    const named = [...new Set(others.map((g) => `${g.model} (${VENDOR_NAMES[g.vendor]})`))].join(', ');
    return cpu(`No NVIDIA GPU: this computer's GPU${others.length === 1 ? ' is' : 's are'} ${named}, and the demo's GPU job is a CUDA program, which needs an NVIDIA GPU. The demo buyer sends CPU jobs only.`);
  }
  if (!f.programBuilt) {
    return cpu("The GPU demo job is not built in this copy of Offshift (dist/demo-job/render-cuda: npm run build where the CUDA toolkit's nvcc is installed), so the demo buyer sends CPU jobs only.");
  }
  if (f.nvidiaRuntime === null) {
    return cpu(`Docker could not be asked whether it has the NVIDIA container runtime${f.engineError ? ` (${f.engineError})` : ''}: CPU jobs only for now.`);
  }
  if (!f.nvidiaRuntime) return cpu(REASON_NO_RUNTIME);
  for (const g of nvidia) {
    const major = driverMajor(g.driver);
    const cuda = cudaMajor(g.cudaVersion);
    if ((major !== null && major < GPU_JOB_NVIDIA_DRIVER) || (major === null && cuda !== null && cuda < 13)) {
      const what = `NVIDIA driver ${g.driver ?? 'unknown'}${g.cudaVersion ? ` (CUDA ${g.cudaVersion})` : ''}`;
      return cpu(`The ${what} is too old for the demo's GPU job, which is built with CUDA 13: update the driver to ${GPU_JOB_NVIDIA_DRIVER} or newer. Until then, CPU jobs only.`);
    }
  }
  const old = nvidia.find((g) => isPreTuring(g.model));
  if (old) {
    return cpu(`The ${old.model} is older than the demo's GPU job supports (it is built with CUDA 13, which runs on Turing cards, GeForce GTX 16 and RTX 20, and newer): the demo buyer sends CPU jobs only.`);
  }
  const floors = [BigInt(f.provider.prices.minPricePerGpuHour), BigInt(f.provider.prices.minPricePerJobHour)];
  const floor = floors[0]! > floors[1]! ? floors[0]! : floors[1]!;
  if (f.gpuPricePerHour < floor) {
    return cpu(`Your price floor for a GPU job (${tokens(floor)} tokens an hour) is above what the demo buyer pays for its GPU job (${tokens(f.gpuPricePerHour)} an hour): CPU jobs only.`);
  }
  if (f.lastGpuFailure && f.now - f.lastGpuFailure.at < GPU_FAILURE_PAUSE_MS) {
    return cpu(`The last GPU demo job did not run here (${f.lastGpuFailure.message}): CPU jobs only until ${clock(f.lastGpuFailure.at + GPU_FAILURE_PAUSE_MS)}, then the demo buyer tries the GPU again.`);
  }
  const cards = [...new Set(nvidia.map((g) => g.model))].join(', ');
  return { gpu: true, reason: `GPU jobs too: every other demo job renders on the ${cards} (CUDA, through Docker's NVIDIA container runtime), the others on the CPU.` };
}

/** The `n`th job's kind: with GPU jobs in the mix, the even-numbered ones, when a GPU is free now. */
export function demoJobKind(jobs: DemoJobs, n: number, freeGpus: number): 'gpu' | 'cpu' {
  return jobs.gpu && n % 2 === 0 && freeGpus > 0 ? 'gpu' : 'cpu';
}

/**
 * The provider the demo buyer serves, from the demo market's providers: the one connected most
 * recently that has advertised (the demo market listens on this computer only; normally there is
 * one). Null when none has.
 */
export function demoProvider(views: readonly Pick<MarketProviderView, 'connected' | 'connectedAt' | 'ad'>[]): DemoProvider | null {
  const live = views.filter((v) => v.connected && v.ad).sort((a, b) => (b.connectedAt ?? 0) - (a.connectedAt ?? 0));
  const ad = live[0]?.ad;
  if (!ad) return null;
  return { gpus: ad.gpus, freeGpus: ad.freeGpus, prices: ad.prices };
}

/**
 * A GPU job the market says was declined for a reason of the GPU's (not a pause or the schedule,
 * which would decline a CPU job as well): the words to pause GPU jobs with, else null. The
 * market's job reason is `declined: <reason>`.
 */
export function gpuDecline(view: { state: string; reason: string } | null): string | null {
  if (!view || view.state !== 'queued') return null;
  const m = /^declined: (not-enough-gpus|not-enough-vram|sandbox-refused|price-below-floor)\b/.exec(view.reason);
  return m ? `the agent declined it: ${m[1]}` : null;
}
