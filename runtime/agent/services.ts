/**
 * The agent's capabilities, made and wired to one another: the GPUs, the schedule (its loop
 * pauses, resumes and preempts the jobs), the jobs' runner, the wallet and ledger, the
 * benchmarks, the desktop app's settings and the marketplace. Events go out on the bus; the
 * state machine hears what changes the agent's state.
 */
import { EventBus } from '../api/events.js';
import { createBenchService, type BenchService } from '../bench/service.js';
import { createDemoNetwork } from '../demo/lazy.js';
import { readDemoPassword } from '../demo/paths.js';
import { createDesktopService, type DesktopService } from '../desktop/service.js';
import type { TelemetrySample } from '../gpu/schema.js';
import { createGpuService, type GpuService } from '../gpu/service.js';
import { createJobsService, type JobsService } from '../jobs/service.js';
import type { Logger } from '../log.js';
import { scoresByGpu, suggestedPrice } from '../market/pricing.js';
import { createMarketService, type MarketService } from '../market/service.js';
import { createMetricsService, type MetricsService } from '../metrics/service.js';
import { createSnapshotSource } from '../metrics/sources.js';
import { effectiveSandboxSettings } from '../sandbox/effective-settings.js';
import type { DecisionReason } from '../schedule/schema.js';
import { createScheduleService, type ScheduleService } from '../schedule/service.js';
import { scryptNOverride } from '../system/dev-overrides.js';
import { createLazyMoney, type LazyMoney } from '../wallet/lazy-money.js';
import type { AgentOptions } from './options.js';
import type { AgentStateMachine } from './state.js';

export interface AgentServices {
  gpu: GpuService;
  schedule: ScheduleService;
  jobs: JobsService;
  money: LazyMoney;
  bench: BenchService;
  desktop: DesktopService;
  market: MarketService;
  demo: ReturnType<typeof createDemoNetwork> | null;
  /** Prometheus /metrics and the node_exporter textfile (off unless the settings turn them on). */
  metrics: MetricsService;
  /** Stops feeding GPU telemetry to the schedule. */
  unsubscribeTelemetry: () => void;
}

/** Why the GPU is not lent that mean the owner uses the computer (downloads may go on then, if the owner allows it). */
const OWNER_AT_THE_COMPUTER = new Set<DecisionReason>(['user-active', 'exclusive-app', 'foreign-gpu-use', 'too-hot']);

interface Wiring {
  options: AgentOptions;
  env: NodeJS.ProcessEnv;
  log: Logger;
  bus: EventBus;
  state: AgentStateMachine;
}

export function createAgentServices(w: Wiring): AgentServices {
  const { options, env, log, bus, state } = w;
  const gpu = createGpuService({
    env,
    log,
    telemetryIntervalMs: options.telemetryIntervalMs ?? 1000,
    onSamples: (samples) => bus.emit('gpu.telemetry', { samples }),
    onTelemetryStatus: (status) => bus.emit('gpu.telemetryStatus', status),
  });
  const schedule = createScheduleService({
    home: options.home,
    env,
    log,
    idle: options.idleSource,
    gpu,
    policyFile: options.policyFile,
    onDecision: (availability) => {
      state.update({ availability });
      // Pulls no job waits for (pre-pulls) stop when the owner comes back, unless downloads may go on.
      jobsRef?.images.availabilityChanged();
    },
  });
  let jobsRef: JobsService | null = null;
  const unsubscribeTelemetry = bus.subscribe((event, payload) => {
    if (event === 'gpu.telemetry') schedule.onTelemetry((payload as { samples: TelemetrySample[] }).samples);
  });
  // The market link is made below: the image store tells it when what it holds warm changes.
  let marketRef: MarketService | null = null;
  const jobs = createJobs(w, gpu, schedule, () => marketRef?.provider()?.advertiseSoon());
  jobsRef = jobs;
  // Money: the wallet, the ledger (same database) and the earnings queries; reconciles with the chain.
  const money = createLazyMoney({
    home: options.home,
    log,
    bus,
    scryptN: scryptNOverride(env),
    env,
    passwordFile: options.market?.passwordFile,
    payout: { store: schedule.settings, policy: () => schedule.policy.current },
  });
  const bench = createBench(w, gpu, jobs);
  const desktop = createDesktop(bus, schedule);
  // The marketplace: one more source of jobs for the same runner, paid into the same wallet.
  const demo = options.market?.demo === false ? null : createDemoNetwork(options.home, env, log);
  const market = createMarketService({
    home: options.home,
    log,
    bus,
    runner: jobs.runner,
    images: jobs.images,
    listGpus: () => gpu.list(),
    schedule,
    agentState: () => ({ value: state.value, snapshot: state.snapshot }),
    money,
    passwordFile: options.market?.passwordFile,
    demoPassword: () => readDemoPassword(options.home),
    scores: () => scoresByGpu(options.home, log),
    suggestPrice: suggestedPrice,
    demo,
    backoff: options.market?.backoff,
  });
  marketRef = market;
  const metrics = createMetrics(w, { gpu, schedule, jobs, money, market });
  return { gpu, schedule, jobs, money, bench, desktop, market, demo, metrics, unsubscribeTelemetry };
}

/** Jobs: the sandboxed runner; the availability loop pauses, resumes and preempts through it. */
function createJobs({ options, env, log, bus, state }: Wiring, gpu: GpuService, schedule: ScheduleService, onImagesChange: () => void): JobsService {
  const jobs = createJobsService({
    home: options.home,
    env,
    log,
    bus,
    listGpus: () => gpu.list(),
    onRunningCount: (runningJobs) => {
      state.update({ runningJobs });
      // The availability loop ticks slowly while nothing runs: a job starting (or stopping) sets its pace now.
      setImmediate(() => schedule.loop.wake());
    },
    sandboxSettings: () => effectiveSandboxSettings(schedule.settings, schedule.policy.current),
    settings: { store: schedule.settings, policy: () => schedule.policy.current },
    mayDownload: () => {
      const decision = schedule.loop.decision;
      return !decision || decision.run || (jobs.images.settings().pullWhileOwnerActive && OWNER_AT_THE_COMPUTER.has(decision.reason));
    },
    onImagesChange,
  });
  schedule.setJobs(jobs.runner);
  return jobs;
}

/** Benchmarks: the CUDA program on the host (never while a job uses the GPUs), WebGPU results from the dashboard. */
function createBench({ options, env, log, bus }: Wiring, gpu: GpuService, jobs: JobsService): BenchService {
  return createBenchService({
    home: options.home,
    env,
    log,
    gpu,
    onProgress: (event) => bus.emit('bench.progress', event),
    // The same program inside the hardened job container with the GPU passed through (`bench run --in-container`).
    inContainer: async (g, args, timeoutMs) => {
      const [{ createContainerBench }, { connectDocker }] = await Promise.all([import('../bench/container.js'), import('../engine/index.js')]);
      return createContainerBench({ runner: jobs.runner, docker: connectDocker(env), env, log })(g, args, timeoutMs);
    },
    busyReason: () =>
      jobs.runner.runningCount() > 0 ? 'A job is running on this machine: the benchmark waits until it ends (it would slow the job and measure too low).' : null,
  });
}

/** The desktop app's settings (stored here, applied by the app) and its report about itself. */
function createDesktop(bus: EventBus, schedule: ScheduleService): DesktopService {
  const desktop = createDesktopService({ settings: schedule.settings, policy: () => schedule.policy.current, onChange: (view) => bus.emit('desktop.settings', view) });
  schedule.settings.onChange((section) => {
    if (section === 'desktop') bus.emit('desktop.settings', desktop.view());
  });
  return desktop;
}

/** Metrics: a snapshot of the parts above for each scrape; the listener and textfile as the settings say. */
function createMetrics({ options, log, bus, state }: Wiring, p: { gpu: GpuService; schedule: ScheduleService; jobs: JobsService; money: LazyMoney; market: MarketService }): MetricsService {
  const source = createSnapshotSource({
    home: options.home,
    bus,
    startedAt: new Date().toISOString(),
    state: () => state.value,
    stateInputs: () => state.snapshot,
    gpu: p.gpu,
    images: p.jobs.images,
    market: p.market,
    money: p.money,
    policy: () => p.schedule.policy.current,
  });
  return createMetricsService({ home: options.home, log, bus, settings: p.schedule.settings, policy: () => p.schedule.policy.current, source, stateInputs: () => state.snapshot });
}
