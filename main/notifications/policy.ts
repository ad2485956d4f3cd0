/**
 * Which notifications to show: a pure function of (what happened, the owner's settings, what
 * was already shown, now). Rules:
 * - each kind can be switched off in Settings (`desktop.notifications.<kind>`);
 * - paused / resumed: the first time of each reason per local day, not every flap;
 * - a failure (agent or Docker): once per reason per hour; a GPU out of service: once per GPU
 *   per day; the wallet locked with earnings waiting: once per day;
 * - job finished, vouchers redeemed: each time;
 * - at most RATE_LIMIT notifications in RATE_WINDOW_MS whatever the kind, so a storm of events
 *   never becomes a storm of pop-ups.
 * Each notification names the dashboard page its click opens.
 */
import type { AgentState } from '../../runtime/agent/schema.js';
import type { NotificationKind, NotificationSettings } from '../../runtime/desktop/schema.js';

export type NotifyEvent =
  | { type: 'agent-state'; previous: AgentState | null; next: AgentState }
  | { type: 'job-finished'; jobId: string; label: string; ok: boolean; detail: string; earned: string | null }
  | { type: 'vouchers-redeemed'; amount: string | null }
  | { type: 'gpu-out-of-service'; gpuKey: string; reason: string }
  | { type: 'wallet-locked' }
  | { type: 'agent-failed'; message: string }
  | { type: 'close-to-tray' };

export interface NotificationToShow {
  kind: NotificationKind | 'app';
  title: string;
  body: string;
  /** The dashboard route the click opens (`#/<page>`), null: just show the window. */
  page: string | null;
}

/** When each key was last shown (ms); the policy's memory, owned by the caller. */
export interface NotifyHistory {
  shown: Record<string, number>;
  recent: number[];
}

export const RATE_LIMIT = 5;
export const RATE_WINDOW_MS = 10 * 60_000;
const HOUR = 3_600_000;

export function emptyHistory(): NotifyHistory {
  return { shown: {}, recent: [] };
}

function localDay(now: number): string {
  const d = new Date(now);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

interface Candidate {
  show: NotificationToShow;
  /** Dedupe key: shown at most once per `key` (already includes the day where relevant). */
  key: string | null;
  /** For keys without a day: the minimum time between two. */
  minGapMs?: number;
}

/** The agent's own failures (error state) with what to do next are in its detail already. */
function fromState(previous: AgentState | null, next: AgentState, now: number): Candidate | null {
  if (previous && previous.state === next.state && previous.reason === next.reason) return null;
  const day = localDay(now);
  if (next.state === 'paused') {
    return { show: { kind: 'paused', title: 'Offshift paused', body: next.detail, page: 'schedule' }, key: `paused:${next.reason}:${day}` };
  }
  if (next.state === 'error') {
    const docker = /docker/i.test(next.reason) || /docker/i.test(next.detail);
    return {
      show: { kind: 'failures', title: docker ? 'Docker is not reachable' : 'Offshift cannot work', body: next.detail, page: 'system' },
      key: `failure:${next.reason}`,
      minGapMs: HOUR,
    };
  }
  // Back to work after a pause (not the first start).
  if ((next.state === 'available' || next.state === 'working') && previous && (previous.state === 'paused' || previous.state === 'error')) {
    return { show: { kind: 'resumed', title: 'Offshift resumed', body: `${next.detail} (was: ${previous.detail})`, page: 'schedule' }, key: `resumed:${previous.reason}:${day}` };
  }
  return null;
}

function candidate(event: NotifyEvent, now: number): Candidate | null {
  switch (event.type) {
    case 'agent-state':
      return fromState(event.previous, event.next, now);
    case 'job-finished':
      return {
        show: {
          kind: 'jobFinished',
          title: event.ok ? `Job finished: ${event.label}` : `Job ended: ${event.label}`,
          body: event.earned ? `${event.detail} Earned ${event.earned}.` : event.detail,
          page: 'jobs',
        },
        key: `job:${event.jobId}`,
      };
    case 'vouchers-redeemed':
      return {
        show: { kind: 'vouchersRedeemed', title: 'Earnings redeemed', body: event.amount ? `${event.amount} moved from escrow to your wallet.` : 'Vouchers were redeemed to your wallet.', page: 'earnings' },
        key: null,
      };
    case 'gpu-out-of-service':
      return { show: { kind: 'gpuOutOfService', title: 'A GPU was taken out of service', body: event.reason, page: 'gpus' }, key: `gpu:${event.gpuKey}:${localDay(now)}` };
    case 'wallet-locked':
      return {
        show: { kind: 'walletLocked', title: 'Your wallet is locked', body: 'Earnings cannot be redeemed until you unlock it. Open the Wallet page to unlock it.', page: 'wallet' },
        key: `wallet-locked:${localDay(now)}`,
      };
    case 'agent-failed':
      return { show: { kind: 'failures', title: 'The Offshift agent has stopped', body: event.message, page: null }, key: 'agent-failed', minGapMs: HOUR };
    case 'close-to-tray':
      return {
        show: { kind: 'app', title: 'Offshift is still running', body: 'It keeps working from the tray. Use Quit in the tray menu to stop it.', page: null },
        key: 'close-to-tray',
        minGapMs: Number.POSITIVE_INFINITY,
      };
  }
}

/** Decides whether `event` becomes a notification, and returns the updated history. */
export function decideNotification(
  event: NotifyEvent,
  settings: NotificationSettings,
  history: NotifyHistory,
  now: number,
): { show: NotificationToShow | null; history: NotifyHistory } {
  const c = candidate(event, now);
  if (!c) return { show: null, history };
  if (c.show.kind !== 'app' && !settings[c.show.kind]) return { show: null, history };
  if (c.key !== null) {
    const last = history.shown[c.key];
    if (last !== undefined && (c.minGapMs === undefined || now - last < c.minGapMs)) return { show: null, history };
  }
  const recent = history.recent.filter((t) => now - t < RATE_WINDOW_MS);
  if (recent.length >= RATE_LIMIT) return { show: null, history: { ...history, recent } };
  const shown = { ...history.shown };
  if (c.key !== null) shown[c.key] = now;
  // Forget day-keyed entries older than two days so the memory stays small.
  for (const [k, t] of Object.entries(shown)) if (now - t > 48 * HOUR && k !== 'close-to-tray') delete shown[k];
  return { show: c.show, history: { shown, recent: [...recent, now] } };
}
