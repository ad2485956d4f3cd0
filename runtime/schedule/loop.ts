/**
 * The availability loop: every tick (4 a second by default, and at once when an idle source
 * pushes the user's return) it reads the signal sources' cached values, runs `decide`, and acts
 * only when the decision changes: it reports the new decision (the agent feeds it to its state
 * machine, which emits `agent.state`) and gives the GPU back or lets work run again.
 *
 * Giving the GPU back, on a decision not to run:
 *  - onUserReturn "stop": `preemptAll(stopGraceSeconds)` (SIGTERM, grace, SIGKILL → `preempted`);
 *    while work may not run, any job that is still running is stopped again.
 *  - onUserReturn "pause": `pauseAll()` (frozen, memory kept); `resumeAll()` when work may run
 *    again (also after the grace below, to release the runner's hold on new jobs);
 *    `preemptAll` once it has been frozen for pauseGraceMinutes.
 */
import type { Logger } from '../log.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { effectiveSection } from '../settings/effective.js';
import { adminPause, decideEffective, nextHeatLatch, NO_IDLE_SOURCE_NOTE } from './decide.js';
import { JobGiveBack } from './give-back.js';
import type { JobControl } from './job-control.js';
import type { Decision, ScheduleSettings, SchedulePatch } from './schema.js';
import type { Signals } from './signals.js';
import type { BatterySource } from './sources/battery.js';
import type { GpuSignalSource } from './sources/gpu.js';
import type { IdleSource } from './sources/idle.js';
import type { ProcessSource } from './sources/processes.js';
import { systemTimeZone } from './windows.js';

export interface AvailabilityLoopOptions {
  /** The user's section and its problem, if the settings file is broken. */
  settings: () => { patch: SchedulePatch | undefined; problem: string | null };
  policy: () => LoadedPolicy;
  idle: IdleSource | null;
  processes: ProcessSource | null;
  gpu: GpuSignalSource | null;
  battery: BatterySource | null;
  jobs: JobControl | null;
  onDecision: (decision: Decision) => void;
  now?: () => Date;
  timeZone?: () => string;
  /** How often the loop decides while work runs (or is frozen): the owner gets the GPU back this fast. */
  tickMs?: number;
  /**
   * How often it decides while nothing runs: there is nothing to give back, so a slower tick
   * only delays the start of work, and keeps the idle agent asleep (its cost on the owner's
   * machine). A job starting, input activity, a settings change each tick at once.
   */
  idleTickMs?: number;
  log?: Logger;
}

export interface AvailabilityLoop {
  readonly decision: Decision | null;
  /** The signals of the latest tick (for the Schedule page and tests). */
  readonly signals: Signals | null;
  /** Notes such as "no idle source: schedule only". */
  notes(): string[];
  /** Runs one tick now (also used by tests with a fake clock). Returns the decision. */
  tick(): Decision;
  /** The settings or the policy changed: recompute the effective settings and tick. */
  invalidate(): void;
  /** Something changed (a job started or stopped): tick now, at the fast pace if work runs. Safe before start and after stop. */
  wake(): void;
  start(): void;
  stop(): Promise<void>;
  /** Resolves when the job actions started so far have finished. */
  settled(): Promise<void>;
}

/**
 * The system's time zone, read at most once a minute: asking Intl for it builds a DateTimeFormat,
 * the most expensive thing in an idle tick (profiled), and a zone change can wait a minute.
 */
export function cachedSystemTimeZone(refreshMs = 60_000, read: () => string = systemTimeZone, clock: () => number = Date.now): () => string {
  let value = '';
  let at = -Infinity;
  return () => {
    const now = clock();
    if (now - at >= refreshMs) {
      value = read();
      at = now;
    }
    return value;
  };
}

type Effective = { ok: true; value: ScheduleSettings } | { ok: false; decision: Decision };

/** The schedule settings in force (the user's under the policy), or the decision that no work runs because one is broken. */
function computeEffective(options: AvailabilityLoopOptions): Effective {
  const policy = options.policy();
  if (policy.state === 'invalid') {
    return {
      ok: false,
      decision: {
        run: false,
        reason: 'policy-invalid',
        detail: `Paused: the administrator's policy file ${policy.file} is invalid (${policy.message}). No work runs until it is fixed.`,
      },
    };
  }
  const user = options.settings();
  if (user.problem) {
    return { ok: false, decision: { run: false, reason: 'settings-invalid', detail: `Paused: your settings file is invalid (${user.problem}). Fix it or save the Schedule page again.` } };
  }
  const e = effectiveSection('schedule', user.patch, policy);
  if (!e.ok) return { ok: false, decision: { run: false, reason: 'settings-invalid', detail: `Paused: the availability settings are invalid (${e.message}).` } };
  return { ok: true, value: e.value };
}

/** What the sources say now (their cached values); `heatLatch` is the latch before this reading. */
function readSignals(options: AvailabilityLoopOptions, s: ScheduleSettings | null, heatLatch: boolean, tz: () => string): Signals {
  const temperatureC = options.gpu?.temperatureC() ?? null;
  return {
    idleSeconds: options.idle ? options.idle.idleSeconds() : null,
    // Reading processes costs a /proc listing: only when an exclusive app is configured.
    processes: s && s.exclusiveApps.length > 0 && options.processes ? options.processes.names() : [],
    gpuProcesses: options.gpu?.processes() ?? [],
    gpuTemperatureC: temperatureC,
    gpuTemperatureUnknown: options.gpu?.temperatureUnknown?.() ?? null,
    pausedForHeat: s ? nextHeatLatch(heatLatch, temperatureC, s.thermal) : heatLatch,
    onBattery: options.battery?.onBattery() ?? null,
    systemTimeZone: tz(),
  };
}

/** Whether work may run, or why not, changed (a detail alone is not a new decision to log). */
function changed(prev: Decision, next: Decision): boolean {
  return prev.run !== next.run || prev.reason !== next.reason;
}

export function createAvailabilityLoop(options: AvailabilityLoopOptions): AvailabilityLoop {
  const now = options.now ?? (() => new Date());
  const tz = options.timeZone ?? cachedSystemTimeZone();
  const tickMs = options.tickMs ?? 250;
  const idleTickMs = Math.max(tickMs, options.idleTickMs ?? 2000);
  const giveBack = options.jobs ? new JobGiveBack(options.jobs, now, options.log) : null;
  const sources = [options.idle, options.processes, options.gpu, options.battery];
  let decision: Decision | null = null;
  let signals: Signals | null = null;
  let heatLatch = false;
  let timer: NodeJS.Timeout | null = null;
  let unsubscribeIdle: (() => void) | null = null;
  let effective: Effective | null = null;
  let started = false;

  const tick = (): Decision => {
    effective ??= computeEffective(options);
    const at = now();
    const s = effective.ok ? effective.value : null;
    signals = readSignals(options, s, heatLatch, tz);
    heatLatch = signals.pausedForHeat;
    // Checked each tick, not with the cached effective settings: the pause ends by the clock.
    const next = adminPause(at, options.policy()) ?? (effective.ok ? decideEffective(at, signals, effective.value) : effective.decision);
    const prev = decision;
    if (!prev || changed(prev, next) || prev.detail !== next.detail) {
      decision = next;
      if (!prev || changed(prev, next)) options.log?.info('availability decision', { run: next.run, reason: next.reason, detail: next.detail });
      giveBack?.onDecision(prev, next, s);
      options.onDecision(next);
    }
    giveBack?.enforce(decision, s);
    schedule();
    return next;
  };

  /** Fast while anything runs, is frozen, or is being given back; slow otherwise. */
  function schedule(): void {
    if (!started) return;
    if (timer) clearTimeout(timer);
    const fast = giveBack?.busy() ?? false;
    options.gpu?.setBusy?.(fast);
    timer = setTimeout(tick, fast ? tickMs : idleTickMs);
    timer.unref();
  }

  return {
    get decision() {
      return decision;
    },
    get signals() {
      return signals;
    },
    notes: () => (started && (options.idle?.idleSeconds() ?? null) === null ? [NO_IDLE_SOURCE_NOTE] : []),
    tick,
    invalidate() {
      effective = null;
      tick();
    },
    wake() {
      if (started) tick();
    },
    start() {
      started = true;
      for (const source of sources) source?.start?.();
      unsubscribeIdle = options.idle?.onActivity?.(() => tick()) ?? null;
      tick();
    },
    async stop() {
      started = false;
      if (timer) clearTimeout(timer);
      timer = null;
      unsubscribeIdle?.();
      for (const source of sources) source?.stop?.();
      await giveBack?.settled();
    },
    async settled() {
      await giveBack?.settled();
    },
  };
}
