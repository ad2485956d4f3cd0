/**
 * Availability as the agent runs it: the settings store, the policy watcher, the signal
 * sources and the loop, plus the handlers of `schedule.get`, `schedule.set`, `agent.pause`,
 * `agent.resume` and `system.processes`.
 */
import type { Logger } from '../log.js';
import { policyFilePath } from '../policy/paths.js';
import { followPolicy, type PolicyFollower } from '../policy/follow.js';
import { openSettingsStore, type SettingsStore } from '../settings/store.js';
import type { JobControl } from './job-control.js';
import { cachedSystemTimeZone, createAvailabilityLoop, type AvailabilityLoop } from './loop.js';
import type { Decision, SchedulePatch, ScheduleView } from './schema.js';
import { runningProcesses, signalSources } from './service-sources.js';
import { pausePatch, scheduleView, setSchedule, type ScheduleSettingsContext } from './service-settings.js';
import type { BatterySource } from './sources/battery.js';
import type { GpuReadings, GpuSignalSource } from './sources/gpu.js';
import type { IdleSource } from './sources/idle.js';
import type { ProcessSource } from './sources/processes.js';

export { policyStatus } from './service-settings.js';

export interface ScheduleServiceOptions {
  home: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  onDecision: (decision: Decision) => void;
  /** The desktop app injects Electron's powerMonitor; undefined → logind on Linux, else none. */
  idle?: IdleSource | null;
  processes?: ProcessSource | null;
  gpu?: GpuSignalSource | GpuReadings | null;
  battery?: BatterySource | null;
  jobs?: JobControl | null;
  now?: () => Date;
  tickMs?: number;
  policyFile?: string;
}

export interface ScheduleService {
  readonly loop: AvailabilityLoop;
  readonly settings: SettingsStore;
  readonly policy: PolicyFollower;
  /** Feed GPU telemetry samples (temperatures) in. */
  onTelemetry(samples: ReadonlyArray<{ gpuIndex: number; temperatureC: number | null; memoryUsedMiB?: number | null }>): void;
  /** Attach the job runner once it exists. */
  setJobs(jobs: JobControl | null): void;
  view(): ScheduleView;
  set(patch: SchedulePatch): ScheduleView;
  pause(input: { forMinutes?: number; until?: string }): ScheduleView;
  resume(): ScheduleView;
  runningProcesses(): Array<{ name: string; count: number }>;
  /** The system check's line about the admin policy. */
  start(): void;
  stop(): Promise<void>;
}

export function createScheduleService(options: ScheduleServiceOptions): ScheduleService {
  const now = options.now ?? (() => new Date());
  const settings = openSettingsStore(options.home);
  const policy = followPolicy(options.policyFile ?? policyFilePath(options.env), { home: options.home, log: options.log });
  const { idle, processes, gpu, battery } = signalSources(options);
  let jobs: JobControl | null = options.jobs ?? null;
  const jobsProxy: JobControl = {
    preemptAll: (g) => jobs?.preemptAll(g) ?? Promise.resolve(),
    pauseAll: () => jobs?.pauseAll() ?? Promise.resolve(),
    resumeAll: () => jobs?.resumeAll() ?? Promise.resolve(),
    runningCount: () => jobs?.runningCount() ?? 0,
  };

  const loop = createAvailabilityLoop({
    settings: () => settings.section('schedule'),
    policy: () => policy.current,
    idle,
    processes,
    gpu,
    battery,
    jobs: jobsProxy,
    onDecision: options.onDecision,
    now,
    tickMs: options.tickMs,
    log: options.log,
  });
  policy.onChange((p) => {
    if (p.state === 'invalid') options.log.warn('admin policy invalid: no work runs until it is fixed', { file: p.file, problem: p.message });
    else options.log.info('admin policy re-read', { file: p.file, state: p.state });
    loop.invalidate();
  });
  settings.onChange(() => loop.invalidate());
  let settingsPoll: NodeJS.Timeout | null = null;

  // The market asks for the view at every offer: Intl is asked for the system's zone once a minute.
  const context: ScheduleSettingsContext = { settings, policy, loop, systemZone: cachedSystemTimeZone() };
  const view = (): ScheduleView => scheduleView(context);
  const set = (patch: SchedulePatch): ScheduleView => setSchedule(context, patch);

  return {
    loop,
    settings,
    policy,
    onTelemetry(samples) {
      gpu?.onSamples?.(samples);
    },
    setJobs(next) {
      jobs = next;
    },
    view,
    set,
    pause(input) {
      return set(pausePatch(input, now));
    },
    resume() {
      return set({ snoozeUntil: null, pausedUntilResumed: false });
    },
    runningProcesses() {
      return runningProcesses(processes);
    },
    start() {
      loop.start();
      policy.start();
      // Another process writing settings.json (the CLI, an editor) is noticed within 5 s; this
      // process's own changes apply at once.
      settingsPoll = setInterval(() => settings.refreshIfChanged(), 5000);
      settingsPoll.unref();
    },
    async stop() {
      if (settingsPoll) clearInterval(settingsPoll);
      policy.close();
      await loop.stop();
    },
  };
}
