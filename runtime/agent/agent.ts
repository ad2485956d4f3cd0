import fs from 'node:fs';
import { createClient, type Client } from '../api/client.js';
import { AppError } from '../errors.js';
import { createDispatcher, type Dispatch, type Handlers } from '../api/dispatcher.js';
import { EventBus } from '../api/events.js';
import { inProcessTransport } from '../api/transports/in-process.js';
import { createDesktopService, type DesktopService } from '../desktop/service.js';
import { createGpuService, type GpuService } from '../gpu/service.js';
import type { TelemetrySample } from '../gpu/schema.js';
import { createLogger, type Logger } from '../log.js';
import { runSystemCheck } from '../check/system-check.js';
import { scryptNOverride } from '../system/dev-overrides.js';
import type { SystemCheck } from '../system/schema.js';
import { createJobsService, type JobsService } from '../jobs/service.js';
import { effectiveSandboxSettings } from '../sandbox/effective-settings.js';
import { createScheduleService, type ScheduleService } from '../schedule/service.js';
import { createBenchService, type BenchService } from '../bench/service.js';
import type { IdleSource } from '../schedule/sources/idle.js';
import { VERSION } from '../version.js';
import { createDemoNetwork } from '../demo/lazy.js';
import { createMarketService, type MarketService } from '../market/service.js';
import { scoresByGpu, suggestedPrice } from '../market/pricing.js';
import { createLazyMoney, type LazyMoney } from '../wallet/lazy-money.js';
import { takeCrashRecord, type CrashRecord } from './crash.js';
import { AgentStateMachine } from './state.js';

export interface AgentOptions {
  /** The data folder (created if missing). */
  home: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Telemetry sampling period; about once a second by default. */
  telemetryIntervalMs?: number;
  /** Input idle time (the desktop app passes Electron's powerMonitor); default: logind on Linux, else none. */
  idleSource?: IdleSource | null;
  /** The admin policy file; default: OFFSHIFT_POLICY_FILE or the OS path. */
  policyFile?: string;
  /** The desktop app's hook for `desktop.rememberPassword` (absent headless: the command says so). */
  desktop?: { rememberPassword(password: string): void };
  /**
   * The marketplace: connect to the market in the settings, or start the demo network when none
   * is set. Off unless asked for (the CLI's `agent` and the desktop app ask; tests choose).
   */
  market?: { enabled: boolean; passwordFile?: string; demo?: boolean; backoff?: { minMs: number; maxMs: number } };
}

/**
 * The agent: plain Node, never electron. Owns the capabilities' services, the one state
 * machine, the event bus and the dispatcher. The same object runs in the desktop app's
 * utilityProcess, as `offshift agent` on a headless rig, and in-process in tests.
 */
export interface Agent {
  readonly home: string;
  readonly bus: EventBus;
  readonly dispatch: Dispatch;
  readonly state: AgentStateMachine;
  readonly gpu: GpuService;
  readonly jobs: JobsService;
  readonly schedule: ScheduleService;
  readonly money: LazyMoney;
  readonly bench: BenchService;
  readonly desktop: DesktopService;
  readonly market: MarketService;
  readonly log: Logger;
  /** A typed client over the in-process transport. */
  client(): Client;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What stop() is stopping now (for a stop that takes too long), or null. */
  stopping(): string | null;
}

export function createAgent(options: AgentOptions): Agent {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger();
  fs.mkdirSync(options.home, { recursive: true, mode: 0o700 });
  const startedAt = new Date().toISOString();
  const lastCrash = takeCrashRecord(options.home, log);
  const bus = new EventBus();
  const state = new AgentStateMachine((s) => {
    log.info('agent state', { state: s.state, reason: s.reason });
    bus.emit('agent.state', s);
  });

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
    onDecision: (availability) => state.update({ availability }),
  });
  const unsubscribeTelemetry = bus.subscribe((event, payload) => {
    if (event === 'gpu.telemetry') schedule.onTelemetry((payload as { samples: TelemetrySample[] }).samples);
  });

  // Jobs: the sandboxed runner; the availability loop pauses, resumes and preempts through it.
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
  });
  schedule.setJobs(jobs.runner);

  // Money: the wallet, the ledger (same database) and the earnings queries; reconciles with the chain.
  const money = createLazyMoney({ home: options.home, log, bus, scryptN: scryptNOverride(env) });

  // Benchmarks: the CUDA program on the host (never while a job uses the GPUs), WebGPU results from the dashboard.
  const bench = createBenchService({
    home: options.home,
    env,
    log,
    gpu,
    onProgress: (event) => bus.emit('bench.progress', event),
    // The same program inside the hardened job container with the GPU passed through (`bench run --in-container`).
    inContainer: async (g, args, timeoutMs) => {
      const [{ createContainerBench }, { connectDocker }] = await Promise.all([import('../bench/container.js'), import('../sandbox/docker.js')]);
      return createContainerBench({ runner: jobs.runner, docker: connectDocker(env), env, log })(g, args, timeoutMs);
    },
    busyReason: () =>
      jobs.runner.runningCount() > 0 ? 'A job is running on this machine: the benchmark waits until it ends (it would slow the job and measure too low).' : null,
  });

  // The desktop app's settings (stored here, applied by the app) and its report about itself.
  const desktop = createDesktopService({ settings: schedule.settings, policy: () => schedule.policy.current, onChange: (view) => bus.emit('desktop.settings', view) });
  schedule.settings.onChange((section) => {
    if (section === 'desktop') bus.emit('desktop.settings', desktop.view());
  });

  // The marketplace: one more source of jobs for the same runner, paid into the same wallet.
  const demo = options.market?.demo === false ? null : createDemoNetwork(options.home, env, log);
  const market = createMarketService({
    home: options.home,
    log,
    bus,
    runner: jobs.runner,
    listGpus: () => gpu.list(),
    schedule,
    agentState: () => ({ value: state.value, snapshot: state.snapshot }),
    money,
    passwordFile: options.market?.passwordFile,
    scores: () => scoresByGpu(options.home, log),
    suggestPrice: suggestedPrice,
    demo,
    backoff: options.market?.backoff,
  });

  const handlers: Handlers = {
    'agent.info': async () => ({
      version: VERSION,
      home: options.home,
      pid: process.pid,
      startedAt,
      platform: process.platform,
      lastCrash: lastCrash && { at: lastCrash.at, kind: lastCrash.kind, name: lastCrash.name, message: lastCrash.message },
    }),
    'agent.state': async () => state.value,
    'gpu.list': async () => ({ gpus: await gpu.list() }),
    'gpu.telemetry': async ({ sinceMs }) => gpu.telemetry(sinceMs),
    ...jobs.handlers,
    ...money.handlers,
    'bench.run': async (input) => bench.run(input),
    'bench.history': async (input) => ({ entries: bench.history(input) }),
    'bench.selfTest': async () => bench.selfTest(),
    'bench.submitWebgpu': async (input) => bench.submitWebgpu(input),
    ...market.handlers,
    'system.check': async () => withCrashItem(await runSystemCheck({ env, home: options.home, gpu, policy: schedule.policy.current }), lastCrash),
    'system.processes': async () => ({ processes: schedule.runningProcesses() }),
    'schedule.get': async () => schedule.view(),
    'schedule.set': async (patch) => schedule.set(patch),
    'agent.pause': async (input) => schedule.pause(input),
    'agent.resume': async () => schedule.resume(),
    'desktop.settings': async (patch) => desktop.set(patch),
    'desktop.host': async ({ host }) => desktop.setHost(host),
    'desktop.rememberPassword': async ({ password }) => {
      if (!options.desktop) throw new AppError('unavailable', 'Only the desktop app can keep the wallet password in the OS keychain; this agent runs without it.');
      await money.handlers['wallet.unlock']({ password });
      options.desktop.rememberPassword(password);
      return desktop.set({ rememberWalletPassword: true });
    },
  };

  let stopStep: string | null = null;
  const dispatch = createDispatcher(handlers, (command, error) => log.error('command failed', { command, error }));

  return {
    home: options.home,
    bus,
    dispatch,
    state,
    gpu,
    schedule,
    jobs,
    money,
    bench,
    desktop,
    market,
    log,
    client: () => createClient(inProcessTransport(dispatch, bus)),
    async start() {
      const gpus = await gpu.start();
      state.update({ started: true, gpuCount: gpus.length });
      await jobs.start();
      schedule.start();
      money.start();
      if (options.market?.enabled) market.start();
    },
    async stop() {
      unsubscribeTelemetry();
      const steps: Array<[string, () => Promise<void> | void]> = [
        // The demo network first: a start in flight is cut short, and its buyer waits on no job of ours.
        ['the demo network', () => demo?.stop()],
        ['the marketplace', () => market.stop()],
        ['the schedule', () => schedule.stop()],
        ['the jobs', () => jobs.stop()],
        ['the wallet', () => money.stop()],
        ['the benchmarks', () => bench.close()],
        ['the GPU telemetry', () => gpu.stop()],
      ];
      for (const [name, step] of steps) {
        stopStep = name;
        await step();
      }
      stopStep = null;
    },
    stopping: () => stopStep,
  };
}

/** The system check names an unexpected stop since the last start (the record is in the data folder). */
function withCrashItem(check: SystemCheck, crash: CrashRecord | null): SystemCheck {
  if (!crash) return check;
  const item = { id: 'last-crash', title: 'Last stop', status: 'warn' as const, message: `The agent stopped on an unexpected error at ${crash.at} and was restarted: ${crash.name}: ${crash.message}`, detail: 'The record is crash.reported.json in the data folder; please include it in a bug report.' };
  return { ...check, items: [...check.items, item] };
}
