/**
 * What a followed admin policy keeps (follow.ts): the pin, the signed policy applied, the last
 * check and refusal, the policy in force; and the small steps that change them.
 */
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { writePolicyChecks } from './kept.js';
import { optional } from './load.js';
import type { LoadedPolicy, PolicyRefusal, PolicySource, PolicyStatusView, SignedPolicyBody, SignedPolicyDocument } from './schema.js';
import { watchPolicy, type PolicyWatcher } from './watcher.js';

export interface FollowOptions {
  /** The data folder: the last good signed policy is kept there. */
  home: string;
  log?: Logger;
  now?: () => Date;
  random?: () => number;
  fetchImpl?: typeof fetch;
  pollMs?: number;
  debounceMs?: number;
}

export interface FollowState {
  readonly file: string;
  readonly options: FollowOptions;
  readonly now: () => Date;
  readonly log: Logger;
  readonly random: () => number;
  readonly watcher: PolicyWatcher;
  readonly listeners: Set<(p: LoadedPolicy) => void>;
  source: PolicySource | null;
  applied: { body: SignedPolicyBody; document: SignedPolicyDocument } | null;
  etag: string | null;
  lastCheck: PolicyStatusView['lastCheck'];
  lastRefusal: PolicyRefusal | null;
  started: boolean;
  timer: NodeJS.Timeout | null;
  inFlight: Promise<void> | null;
  current: LoadedPolicy;
}

/** The state before any pin is adopted: the local file watched, nothing applied. */
export function createFollowState(file: string, options: FollowOptions): FollowState {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? silentLogger;
  const random = options.random ?? Math.random;
  const watcher = watchPolicy(file, { pollMs: options.pollMs, debounceMs: options.debounceMs });
  const s: FollowState = {
    file,
    options,
    now,
    log,
    random,
    watcher,
    listeners: new Set(),
    source: null,
    applied: null,
    etag: null,
    lastCheck: null,
    lastRefusal: null,
    started: false,
    timer: null,
    inFlight: null,
    current: watcher.current,
  };
  s.current = computePolicy(s);
  return s;
}

/** The policy in force: the signed one applied for the local file's pin, else the local file. */
export function computePolicy(s: FollowState): LoadedPolicy {
  const local = s.watcher.current;
  if (local.state !== 'ok' || !local.source || !s.applied) return local;
  const b = s.applied.body;
  return { state: 'ok', file: local.source.url, mandatory: b.mandatory ?? {}, recommended: b.recommended ?? {}, ...optional({ pauseUntil: b.pauseUntil, version: b.version, source: local.source }) };
}

/** Recomputes the policy in force; the listeners hear of it when it changed. */
export function refreshPolicy(s: FollowState): void {
  const next = computePolicy(s);
  const changed = JSON.stringify(next) !== JSON.stringify(s.current);
  s.current = next;
  if (changed) for (const l of s.listeners) l(next);
}

export function refuse(s: FollowState, at: Date, why: string, version: number | null): void {
  s.lastRefusal = { at: at.toISOString(), why, version };
  s.lastCheck = { at: at.toISOString(), result: `refused: ${why}` };
  s.log.warn('admin policy refused', { url: s.source?.url, version, why });
}

/** The last check and refusal, on disk for `policy status` after a restart. Never throws. */
export function persistChecks(s: FollowState): void {
  if (!s.source) return;
  try {
    writePolicyChecks(s.options.home, s.source, { lastCheck: s.lastCheck, lastRefusal: s.lastRefusal });
  } catch (error) {
    s.log.warn('the last policy check could not be recorded on disk', { error: (error as Error).message });
  }
}
