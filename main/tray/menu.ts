/**
 * What the tray shows, as one pure function of what the app knows: the agent's state and its
 * reason, today's earnings, the running jobs, the snooze, whether the wallet needs unlocking,
 * which network (demo or real), whether an update is ready. The Electron adapter (tray.ts)
 * only renders the description this returns, so every item and its wording is a unit test.
 */
import type { AgentState, AgentStateName } from '../../runtime/agent/schema.js';

/** Where the agent lives, and whether it is up (the host's view of the process). */
export type AgentLink =
  | { status: 'starting' }
  | { status: 'running' }
  | { status: 'restarting' }
  | { status: 'failed'; message: string }
  | { status: 'stopped' };

export interface TrayJob {
  id: string;
  /** What runs: the image's name without registry and digest. */
  label: string;
  startedAt: number | null;
  /** Earned so far in base units (a decimal string), when known. */
  earned: string | null;
}

export interface TrayInput {
  link: AgentLink;
  agent: AgentState | null;
  /** `embedded`: the app hosts the agent; `service`: the app is attached to the system service. */
  mode: 'embedded' | 'service';
  /** Today's earnings in base units, with the token to show them in; null when unknown (no wallet). */
  earnings: { today: string; symbol: string; decimals: number } | null;
  jobs: readonly TrayJob[];
  /** The snooze: until when (ISO) or until resumed, and whether the admin policy locks it. */
  snooze: { until: string | null; untilResumed: boolean; locked: boolean } | null;
  walletNeedsUnlock: boolean;
  network: 'demo' | 'real' | null;
  /** An update downloaded and waiting to install on quit. */
  updateReady: { version: string } | null;
  now: number;
}

export type TrayAction =
  | 'open'
  | 'open-jobs'
  | 'open-earnings'
  | 'open-wallet'
  | 'open-bench'
  | 'pause-hour'
  | 'pause-tomorrow'
  | 'resume'
  | 'install-update'
  | 'quit';

export type TrayMenuItem =
  | { kind: 'info'; label: string }
  | { kind: 'action'; action: TrayAction; label: string; enabled: boolean }
  | { kind: 'separator' };

export interface TrayMenu {
  /** resources/tray/<image>.png */
  image: AgentStateName;
  tooltip: string;
  items: TrayMenuItem[];
}

const MAX_LINE = 120;
const short = (text: string) => (text.length > MAX_LINE ? `${text.slice(0, MAX_LINE - 1)}…` : text);

/** Base units as tokens with at most `maxFraction` decimals (rounded down), e.g. "1.25 OFS". */
export function formatAmount(units: string, decimals: number, symbol: string, maxFraction = 4): string {
  let value: bigint;
  try {
    value = BigInt(units);
  } catch {
    return `? ${symbol}`;
  }
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals, digits.length - decimals + maxFraction).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''} ${symbol}`.trim();
}

/** "45 s", "12 min", "3 h 05 min". */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

function stateLine(input: TrayInput): { image: AgentStateName; line: string } {
  const { link, agent } = input;
  if (link.status === 'failed') return { image: 'error', line: 'Agent stopped: quit and reopen Offshift' };
  if (link.status === 'restarting') return { image: 'error', line: input.mode === 'service' ? 'Lost the Offshift service: reconnecting…' : 'Agent restarting…' };
  if (link.status !== 'running' || !agent) return { image: 'starting', line: input.mode === 'service' ? 'Connecting to the Offshift service…' : 'Starting…' };
  return { image: agent.state, line: short(agent.detail) };
}

function snoozeLabel(until: string, now: number): string {
  const at = new Date(until);
  const sameDay = new Date(now).toDateString() === at.toDateString();
  const time = at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return `Snoozed until ${sameDay ? time : `${at.toLocaleDateString(undefined, { weekday: 'short' })} ${time}`}`;
}

export function trayMenu(input: TrayInput): TrayMenu {
  const { image, line } = stateLine(input);
  const running = input.link.status === 'running' && input.agent !== null;
  const items: TrayMenuItem[] = [{ kind: 'info', label: line }];
  if (input.network === 'demo') items.push({ kind: 'info', label: 'Demo network (test tokens)' });
  if (input.mode === 'service') items.push({ kind: 'info', label: 'Agent: the system service' });

  // Earnings and jobs.
  if (input.earnings) items.push({ kind: 'action', action: 'open-earnings', label: `Today: ${formatAmount(input.earnings.today, input.earnings.decimals, input.earnings.symbol)}`, enabled: true });
  const shown = input.jobs.slice(0, 3);
  for (const job of shown) {
    const parts = [job.label];
    if (job.startedAt !== null) parts.push(formatElapsed(input.now - job.startedAt));
    if (job.earned !== null && input.earnings) parts.push(`${formatAmount(job.earned, input.earnings.decimals, input.earnings.symbol)} so far`);
    items.push({ kind: 'action', action: 'open-jobs', label: short(`Running: ${parts.join(' · ')}`), enabled: true });
  }
  if (input.jobs.length > shown.length) items.push({ kind: 'action', action: 'open-jobs', label: `and ${input.jobs.length - shown.length} more running`, enabled: true });
  if (input.walletNeedsUnlock) items.push({ kind: 'action', action: 'open-wallet', label: 'Unlock the wallet to redeem earnings…', enabled: true });
  items.push({ kind: 'separator' });

  // Snooze.
  const snooze = input.snooze;
  const snoozed = snooze !== null && (snooze.untilResumed || (snooze.until !== null && Date.parse(snooze.until) > input.now));
  const locked = snooze?.locked === true;
  const lockedNote = ' (locked by your administrator)';
  if (snoozed && snooze) {
    items.push({ kind: 'info', label: snooze.untilResumed ? 'Snoozed until you resume' : snoozeLabel(snooze.until!, input.now) });
    items.push({ kind: 'action', action: 'resume', label: `Resume${locked ? lockedNote : ''}`, enabled: running && !locked });
  } else {
    items.push({ kind: 'action', action: 'pause-hour', label: `Pause for 1 hour${locked ? lockedNote : ''}`, enabled: running && !locked });
    items.push({ kind: 'action', action: 'pause-tomorrow', label: `Pause until tomorrow${locked ? lockedNote : ''}`, enabled: running && !locked });
  }
  items.push({ kind: 'separator' });

  items.push({ kind: 'action', action: 'open', label: 'Open Offshift', enabled: true });
  items.push({ kind: 'action', action: 'open-bench', label: 'Run benchmark…', enabled: running });
  if (input.updateReady) items.push({ kind: 'action', action: 'install-update', label: `Restart to update to ${input.updateReady.version}`, enabled: true });
  items.push({ kind: 'separator' });
  items.push({ kind: 'action', action: 'quit', label: quitLabel(input), enabled: true });

  const tooltipParts = [`Offshift: ${line}`];
  if (input.updateReady) tooltipParts.push(`update ${input.updateReady.version} ready`);
  return { image, tooltip: short(tooltipParts.join(' · ')), items };
}

function quitLabel(input: TrayInput): string {
  if (input.mode === 'service') return 'Quit Offshift (the service keeps running)';
  const n = input.jobs.length;
  return n === 0 ? 'Quit Offshift' : `Quit Offshift (stops ${n} running job${n === 1 ? '' : 's'} first)`;
}

/** The next local midnight after `now` (ISO): "Pause until tomorrow". */
export function startOfTomorrow(now: number): string {
  const d = new Date(now);
  d.setHours(24, 0, 0, 0);
  return d.toISOString();
}
