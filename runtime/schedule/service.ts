/**
 * Availability as the agent runs it: the settings store, the policy watcher, the signal
 * sources and the loop, plus the handlers of `schedule.get`, `schedule.set`, `agent.pause`,
 * `agent.resume` and `system.processes`.
 */
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { describePolicy } from '../policy/load.js';
import { policyFilePath } from '../policy/paths.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { followPolicy, type PolicyFollower } from '../policy/follow.js';
import { effectiveSection } from '../settings/effective.js';
import { describeIssues } from '../settings/issues.js';
import { deepMerge, isLocked, leafPaths } from '../settings/merge.js';
import { settingsSections } from '../settings/sections.js';
import { openSettingsStore, type SettingsStore } from '../settings/store.js';
import type { JobControl } from './job-control.js';
import { cachedSystemTimeZone, createAvailabilityLoop, type AvailabilityLoop } from './loop.js';
import { normalizeProcessName } from './process-match.js';
import type { Decision, PolicyStatus, SchedulePatch, ScheduleView } from './schema.js';
import { createBatterySource, type BatterySource } from './sources/battery.js';
import { PolledGpuSignalSource, type GpuReadings, type GpuSignalSource } from './sources/gpu.js';
import type { IdleSource } from './sources/idle.js';
import { LogindIdleSource } from './sources/idle-logind.js';
import { createOwnJobMatcher, listManagedContainerIds } from './sources/own-jobs.js';
import { createProcessSource, type ProcessSource } from './sources/processes.js';

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

function isGpuSignalSource(x: GpuSignalSource | GpuReadings): x is GpuSignalSource {
  return typeof (x as GpuSignalSource).temperatureC === 'function';
}

export function policyStatus(policy: LoadedPolicy): PolicyStatus {
  return { state: policy.state, file: policy.file, message: describePolicy(policy) };
}

export function createScheduleService(options: ScheduleServiceOptions): ScheduleService {
  const now = options.now ?? (() => new Date());
  const settings = openSettingsStore(options.home);
  const policy = followPolicy(options.policyFile ?? policyFilePath(options.env), { home: options.home, log: options.log });
  const idle = options.idle !== undefined ? options.idle : process.platform === 'linux' ? new LogindIdleSource() : null;
  const processes = options.processes !== undefined ? options.processes : createProcessSource();
  const gpu =
    options.gpu === undefined || options.gpu === null
      ? null
      : isGpuSignalSource(options.gpu)
        ? options.gpu
        : new PolledGpuSignalSource(options.gpu, process.platform === 'linux' ? createOwnJobMatcher(() => listManagedContainerIds(options.env)) : () => false);
  const battery = options.battery !== undefined ? options.battery : createBatterySource();
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
  const systemZone = cachedSystemTimeZone();
  const view = (): ScheduleView => {
    const user = settings.section('schedule');
    const current = policy.current;
    const e = effectiveSection('schedule', user.patch, current);
    const notes = [...loop.notes()];
    if (user.problem) notes.push(`Your settings file ${settings.file} is invalid (${user.problem}); saving replaces it (the old one is kept beside it).`);
    if (current.state === 'invalid') notes.push(describePolicy(current));
    if (!e.ok) notes.push(`The effective settings are invalid: ${e.message}`);
    const effective = e.ok ? e.value : settingsSections.schedule.defaults;
    return {
      effective,
      locked: e.locked,
      recommended: e.recommended,
      user: user.patch ?? {},
      policy: policyStatus(current),
      decision: loop.decision,
      notes,
      timezone: effective.timezone ?? systemZone(),
    };
  };

  const checkLocks = (patch: SchedulePatch) => {
    const current = policy.current;
    if (current.state === 'invalid') {
      throw new AppError('policy-invalid', `${describePolicy(current)} Settings cannot be changed until then.`);
    }
    const e = effectiveSection('schedule', settings.section('schedule').patch, current);
    const effective = e.ok ? (e.value as unknown as Record<string, unknown>) : {};
    for (const path of leafPaths(patch)) {
      if (!isLocked(`schedule.${path}`, e.locked)) continue;
      // Sending the locked value unchanged (a form saved whole) is fine; changing it is not.
      const sent = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], patch);
      const has = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], effective);
      if (JSON.stringify(sent) === JSON.stringify(has)) continue;
      throw new AppError(
        'locked-by-policy',
        `schedule.${path} is set by your administrator (${current.file}) and cannot be changed here. Ask your administrator to change the policy.`,
      );
    }
  };

  /** Drops leaves that equal a locked value, so the user file never shadows the admin's. */
  const withoutLocked = (patch: SchedulePatch): SchedulePatch => {
    const locked = effectiveSection('schedule', undefined, policy.current).locked;
    if (locked.length === 0) return patch;
    const out = structuredClone(patch) as Record<string, unknown>;
    for (const path of leafPaths(patch)) {
      if (!isLocked(`schedule.${path}`, locked)) continue;
      const keys = path.split('.');
      let o: Record<string, unknown> | undefined = out;
      for (const k of keys.slice(0, -1)) o = o?.[k] as Record<string, unknown> | undefined;
      if (o) delete o[keys[keys.length - 1]!];
    }
    return out as SchedulePatch;
  };

  const set = (patch: SchedulePatch): ScheduleView => {
    checkLocks(patch);
    settings.update('schedule', withoutLocked(patch), (next) => {
      const e = effectiveSection('schedule', next, policy.current);
      if (!e.ok) throw new AppError('invalid-input', `Invalid settings: ${e.message}.`);
      if (!e.userApplied) {
        const current = policy.current;
        const mandatory = current.state === 'ok' ? current.mandatory.schedule : undefined;
        const why = settingsSections.schedule.full.safeParse(deepMerge(settingsSections.schedule.defaults, next, mandatory));
        throw new AppError('invalid-input', `Invalid settings: these values clash with your administrator's${why.success ? '' : ` (${describeIssues(why.error, 'schedule')})`}.`);
      }
    });
    loop.invalidate();
    return view();
  };

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
    pause({ forMinutes, until }) {
      if (forMinutes !== undefined && until !== undefined) throw new AppError('invalid-input', 'Give a duration or an end time, not both.');
      if (until !== undefined) {
        const at = new Date(until);
        if (Number.isNaN(at.getTime())) throw new AppError('invalid-input', `"${until}" is not a date and time (ISO 8601, e.g. 2026-11-23T18:00:00Z).`);
        if (at.getTime() <= now().getTime()) throw new AppError('invalid-input', `${until} is already past: give a time in the future.`);
        return set({ snoozeUntil: at.toISOString(), pausedUntilResumed: false });
      }
      if (forMinutes !== undefined) return set({ snoozeUntil: new Date(now().getTime() + forMinutes * 60_000).toISOString(), pausedUntilResumed: false });
      return set({ snoozeUntil: null, pausedUntilResumed: true });
    },
    resume() {
      return set({ snoozeUntil: null, pausedUntilResumed: false });
    },
    runningProcesses() {
      const source = processes;
      if (!source) return [];
      const counts = new Map<string, { name: string; count: number }>();
      // A Windows executable name (Wine/Proton) when there is one, else the process name.
      const entries = source.list ? source.list().map((p) => p.names.find((n) => /\.exe$/i.test(n)) ?? p.names[0] ?? '') : source.names();
      for (const name of entries) {
        const key = normalizeProcessName(name);
        if (!key) continue;
        const c = counts.get(key) ?? { name, count: 0 };
        c.count++;
        counts.set(key, c);
      }
      return [...counts.values()].sort((a, b) => a.name.localeCompare(b.name));
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
