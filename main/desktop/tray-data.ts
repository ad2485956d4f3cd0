/**
 * What the tray shows besides the agent's state, read from the agent: the running jobs (with
 * what each marketplace job has earned so far), the snooze, the wallet's lock and today's
 * earnings, the marketplace network. Reading it also raises the notifications it reveals (a
 * GPU newly out of service, a locked wallet with vouchers to redeem).
 */
import type { CommandOutput } from '../../runtime/api/contract.js';
import { isLocked } from '../../runtime/settings/merge.js';
import type { MainClient } from '../agent/main-client.js';
import type { Notifier } from '../notifications/notifier.js';
import type { TrayInput, TrayJob } from '../tray/menu.js';

export type TrayData = Pick<TrayInput, 'earnings' | 'jobs' | 'snooze' | 'walletNeedsUnlock' | 'network'>;

export const EMPTY_TRAY_DATA: TrayData = { earnings: null, jobs: [], snooze: null, walletNeedsUnlock: false, network: null };

const ACTIVE_JOB_STATES = new Set(['pulling', 'starting', 'running', 'paused']);

export function jobLabel(job: { spec: { image: string } }): string {
  const image = job.spec.image.replace(/@sha256:[0-9a-f]+$/, '').replace(/^[^/]+\.[^/]+\//, '');
  return image.length > 40 ? `${image.slice(0, 39)}…` : image;
}

/** The call's answer, or null when it failed (the tray shows what it has). */
export async function orNull<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch {
    return null;
  }
}

export interface TrayReader {
  client: MainClient;
  notifier: Notifier;
  walletExists: () => boolean;
}

/** Reads the tray's data anew; a part whose call fails keeps its previous value. */
export class TrayDataReader {
  private outOfService = new Set<string>();

  constructor(private readonly deps: TrayReader) {}

  async read(previous: TrayData): Promise<TrayData> {
    const client = this.deps.client;
    const [jobs, schedule, market] = await Promise.all([
      orNull(() => client.call('jobs.list', { limit: 50 })),
      orNull(() => client.call('schedule.get', {})),
      orNull(() => client.call('market.status', {})),
    ]);
    const next: TrayData = { ...previous };
    if (jobs) next.jobs = this.activeJobs(jobs, market);
    if (schedule) {
      next.snooze = {
        until: schedule.effective.snoozeUntil,
        untilResumed: schedule.effective.pausedUntilResumed,
        locked: isLocked('schedule.snoozeUntil', schedule.locked) || isLocked('schedule.pausedUntilResumed', schedule.locked),
      };
    }
    if (this.deps.walletExists()) Object.assign(next, await this.wallet());
    // The marketplace network: the demo one on this computer (test tokens) or a real one.
    next.network = market && market.network !== 'off' ? market.network : null;
    return next;
  }

  private activeJobs(jobs: CommandOutput<'jobs.list'>, market: CommandOutput<'market.status'> | null): TrayJob[] {
    // What each marketplace job has earned so far (its usage at the agreed price).
    const due = new Map((market?.jobs ?? []).map((j) => [j.localJobId, j.amountDue]));
    const current = new Set(jobs.gpusOutOfService.map((g) => g.gpuKey));
    for (const g of jobs.gpusOutOfService) {
      if (!this.outOfService.has(g.gpuKey)) this.deps.notifier.handle({ type: 'gpu-out-of-service', gpuKey: g.gpuKey, reason: g.reason });
    }
    this.outOfService = current;
    return jobs.jobs.filter((j) => ACTIVE_JOB_STATES.has(j.state)).map((j) => ({ id: j.id, label: jobLabel(j), startedAt: j.startedAt, earned: due.get(j.id) ?? null }));
  }

  private async wallet(): Promise<Pick<TrayData, 'walletNeedsUnlock' | 'earnings'>> {
    const client = this.deps.client;
    const [wallet, summary] = await Promise.all([orNull(() => client.call('wallet.status', {})), orNull(() => client.call('earnings.summary', {}))]);
    const walletNeedsUnlock = wallet !== null && wallet.exists && !wallet.unlocked;
    if (wallet && walletNeedsUnlock && BigInt(wallet.redeemable) > 0n) this.deps.notifier.handle({ type: 'wallet-locked' });
    return { walletNeedsUnlock, earnings: summary ? { today: summary.today, symbol: summary.tokenSymbol, decimals: summary.tokenDecimals } : null };
  }
}
