/**
 * The admin policy as the agent follows it: the local file (watched, re-read within seconds of
 * a change), and, when that file pins a `source` ({ url, signer }), the signed policy served
 * there, checked at start and then every `everySeconds` (default 5 min) plus up to 10 % jitter.
 * A signed policy replaces the local file's own values once one is applied; until then the local
 * values apply. A refused document (unsigned, another signer, malformed, older) changes nothing
 * and is kept as the last refusal; the last good one is kept on disk for a restart offline.
 */
import { adoptSource, checkNow, followLocalFile, recheckKept, scheduleCheck } from './follow-check.js';
import { createFollowState, refreshPolicy, type FollowOptions, type FollowState } from './follow-state.js';
import { describePolicy } from './load.js';
import type { PolicyStatusView } from './schema.js';
import { appliedPolicyVersion } from './version.js';
import type { PolicyWatcher } from './watcher.js';

export type { FollowOptions } from './follow-state.js';

export interface PolicyFollower extends PolicyWatcher {
  /** Starts checking the signed policy URL, when the local file names one: at once, then periodically. */
  start(): void;
  /** Checks the URL now (a no-op without one); resolves once the answer is applied or refused. */
  checkNow(): Promise<void>;
  status(): PolicyStatusView;
}

export function followPolicy(file: string, options: FollowOptions): PolicyFollower {
  const s = createFollowState(file, options);
  followLocalFile(s);
  return {
    get current() {
      return s.current;
    },
    reload() {
      s.watcher.reload();
      adoptSource(s);
      refreshPolicy(s);
      return s.current;
    },
    onChange(listener) {
      s.listeners.add(listener);
      return () => s.listeners.delete(listener);
    },
    start() {
      if (s.started) return;
      s.started = true;
      void recheckKept(s).finally(() => scheduleCheck(s, 0));
    },
    checkNow: () => checkNow(s),
    status: () => followStatus(s),
    close() {
      s.started = false;
      if (s.timer) clearTimeout(s.timer);
      s.timer = null;
      s.watcher.close();
    },
  };
}

function followStatus(s: FollowState): PolicyStatusView {
  const { source, applied, current } = s;
  const local = s.watcher.current;
  const waiting = source && !applied && current.state === 'ok' ? ` No signed policy from ${source.url} yet: the local file's own values apply.` : '';
  return {
    source: source ? 'url' : local.state === 'none' ? 'none' : 'file',
    file: s.file,
    url: source?.url ?? null,
    signer: source?.signer ?? null,
    state: current.state,
    message: describePolicy(current) + waiting,
    version: appliedPolicyVersion(current),
    issuedAt: applied?.body.issuedAt ?? null,
    pauseUntil: current.state === 'ok' ? (current.pauseUntil ?? null) : null,
    lastCheck: s.lastCheck,
    lastRefusal: s.lastRefusal,
  };
}
