/**
 * The desktop app's living parts around the agent: the tray (fed from the agent's state, today's
 * earnings, running jobs, the snooze, the wallet), the notifications, the desktop settings
 * applied (open at login, update channel, the remembered password), and the report the app gives
 * the agent about itself (`desktop.host`, shown on the Settings page). It talks to the agent
 * through main's own client, the same API as the window. The decisions it applies are pure
 * (tray/menu.ts, notifications/policy.ts, login-item.ts, password-memory.ts, updater.ts).
 */
import type { AgentState } from '../../runtime/agent/schema.js';
import { isCommandName } from '../../runtime/api/contract.js';
import { defaultDesktopSettings, type DesktopSettings, type DesktopView } from '../../runtime/desktop/schema.js';
import { isLocked } from '../../runtime/settings/merge.js';
import { isFinalState } from '../../runtime/jobs/schema.js';
import type { MainClient } from '../agent/main-client.js';
import type { Notifier } from '../notifications/notifier.js';
import type { NotifyEvent } from '../notifications/policy.js';
import { formatAmount, startOfTomorrow, trayMenu, type AgentLink, type TrayAction, type TrayInput, type TrayJob } from '../tray/menu.js';
import type { AppTray } from '../tray/tray.js';
import type { PasswordMemory } from './password-memory.js';
import type { Updater } from './updater.js';

/** How often the tray re-reads earnings and jobs when nothing happened (the elapsed times move). */
export const TRAY_REFRESH_MS = 60_000;

const ACTIVE_JOB_STATES = new Set(['pulling', 'starting', 'running', 'paused']);

export interface ControllerDeps {
  client: MainClient;
  mode: 'embedded' | 'service';
  tray: AppTray | null;
  notifier: Notifier;
  passwords: PasswordMemory | null;
  updater: () => Updater | null;
  /** Whether a wallet exists; checking the data folder avoids loading the wallet code in the agent. */
  walletExists: () => boolean;
  openPage(page: string | null): void;
  quit(): void;
  applySettings(settings: DesktopSettings): void;
  loginItemEnabled(): boolean | null;
  warn(message: string, fields?: Record<string, unknown>): void;
  now?: () => number;
}

export interface DesktopController {
  setLink(link: AgentLink): void;
  setAgentState(state: AgentState): void;
  /** Notify through the policy (close-to-tray, the agent giving up). */
  notify(event: NotifyEvent): void;
  rememberPassword(password: string): void;
  /** Re-sends `desktop.host` (the updater's status changed). */
  reportHost(): void;
  readonly settings: DesktopSettings;
  action(action: TrayAction): void;
  stop(): void;
}

function jobLabel(job: { spec: { image: string } }): string {
  const image = job.spec.image.replace(/@sha256:[0-9a-f]+$/, '').replace(/^[^/]+\.[^/]+\//, '');
  return image.length > 40 ? `${image.slice(0, 39)}…` : image;
}

export function createDesktopController(deps: ControllerDeps): DesktopController {
  const now = deps.now ?? Date.now;
  let link: AgentLink = { status: 'starting' };
  let agent: AgentState | null = null;
  let settings: DesktopSettings = defaultDesktopSettings;
  let data: Pick<TrayInput, 'earnings' | 'jobs' | 'snooze' | 'walletNeedsUnlock' | 'network'> = { earnings: null, jobs: [], snooze: null, walletNeedsUnlock: false, network: null };
  let outOfService = new Set<string>();
  let refreshing: Promise<void> | null = null;
  let again = false;
  let stopped = false;

  const render = () => {
    if (stopped) return;
    const updater = deps.updater();
    deps.tray?.render(trayMenu({ link, agent, mode: deps.mode, ...data, updateReady: updater?.ready ?? null, now: now() }));
  };

  const call = async <T>(fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch {
      return null;
    }
  };

  /** Re-reads what the tray shows; coalesces concurrent calls. */
  const refresh = (): Promise<void> => {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      if (!deps.client.connected) return;
      const [jobs, schedule, market] = await Promise.all([
        call(() => deps.client.call('jobs.list', { limit: 50 })),
        call(() => deps.client.call('schedule.get', {})),
        call(() => deps.client.call('market.status', {})),
      ]);
      // What each marketplace job has earned so far (its usage at the agreed price).
      const due = new Map((market?.jobs ?? []).map((j) => [j.localJobId, j.amountDue]));
      const next: typeof data = { ...data };
      if (jobs) {
        const active = jobs.jobs.filter((j) => ACTIVE_JOB_STATES.has(j.state));
        next.jobs = active.map((j): TrayJob => ({ id: j.id, label: jobLabel(j), startedAt: j.startedAt, earned: due.get(j.id) ?? null }));
        const current = new Set(jobs.gpusOutOfService.map((g) => g.gpuKey));
        for (const g of jobs.gpusOutOfService) if (!outOfService.has(g.gpuKey)) deps.notifier.handle({ type: 'gpu-out-of-service', gpuKey: g.gpuKey, reason: g.reason });
        outOfService = current;
      }
      if (schedule) {
        next.snooze = {
          until: schedule.effective.snoozeUntil,
          untilResumed: schedule.effective.pausedUntilResumed,
          locked: isLocked('schedule.snoozeUntil', schedule.locked) || isLocked('schedule.pausedUntilResumed', schedule.locked),
        };
      }
      if (deps.walletExists()) {
        const [wallet, summary] = await Promise.all([call(() => deps.client.call('wallet.status', {})), call(() => deps.client.call('earnings.summary', {}))]);
        next.walletNeedsUnlock = wallet !== null && wallet.exists && !wallet.unlocked;
        next.earnings = summary ? { today: summary.today, symbol: summary.tokenSymbol, decimals: summary.tokenDecimals } : null;
        if (wallet && next.walletNeedsUnlock && BigInt(wallet.redeemable) > 0n) deps.notifier.handle({ type: 'wallet-locked' });
      }
      // The marketplace network: the demo one on this computer (test tokens) or a real one.
      next.network = market && market.network !== 'off' ? market.network : null;
      data = next;
      render();
    })().finally(() => {
      refreshing = null;
      if (again && !stopped) {
        again = false;
        void refresh();
      }
    });
    return refreshing;
  };

  const hostReport = () => ({
    mode: deps.mode,
    keychain: deps.passwords?.status() ?? { available: false, backend: 'none', reason: 'The system service keeps no password: unlock the wallet on the Wallet page.' },
    passwordRemembered: deps.passwords?.remembered ?? false,
    update: deps.updater()?.status ?? 'Updates are off.',
    openAtLogin: deps.loginItemEnabled(),
  });
  const reportHost = () => {
    if (deps.client.connected) void call(() => deps.client.call('desktop.host', { host: hostReport() }));
  };

  const apply = (view: DesktopView) => {
    settings = view.effective;
    deps.notifier.setSettings(settings.notifications);
    deps.applySettings(settings);
    if (!settings.rememberWalletPassword && deps.passwords?.remembered) {
      deps.passwords.forget();
      reportHost();
    }
  };

  const onConnect = async () => {
    const view = await call(() => deps.client.call('desktop.settings', {}));
    if (view) apply(view);
    reportHost();
    // The remembered password unlocks the wallet at start.
    const password = settings.rememberWalletPassword ? deps.passwords?.recall() : null;
    if (password && deps.walletExists()) {
      const wallet = await call(() => deps.client.call('wallet.status', {}));
      if (wallet && wallet.exists && !wallet.unlocked) {
        const unlocked = await call(() => deps.client.call('wallet.unlock', { password }));
        if (!unlocked) deps.warn('the remembered wallet password did not unlock the wallet; forget it in Settings and unlock by hand');
      }
    }
    await refresh();
  };

  const unsubscribers = [
    deps.client.onConnect(() => void onConnect()),
    deps.client.on('desktop.settings', (view) => apply(view)),
    deps.client.on('job.update', (job) => {
      if (isFinalState(job.state)) {
        deps.notifier.handle({ type: 'job-finished', jobId: job.id, label: jobLabel(job), ok: job.state === 'succeeded', detail: job.detail, earned: null });
      }
      void refresh();
    }),
    deps.client.on('wallet.update', (event) => {
      if (event.reason === 'redeemed') deps.notifier.handle({ type: 'vouchers-redeemed', amount: null });
      void refresh();
    }),
  ];
  const timer = setInterval(() => void refresh(), TRAY_REFRESH_MS);
  timer.unref?.();
  render();

  const pause = (input: { forMinutes?: number; until?: string } | null) => {
    const request = input ? deps.client.call('agent.pause', input) : deps.client.call('agent.resume', {});
    request.then(
      () => refresh(),
      (error: unknown) => deps.warn('the tray could not change the snooze', { error: error instanceof Error ? error.message : String(error) }),
    );
  };

  return {
    setLink(next) {
      link = next;
      if (next.status === 'failed') deps.notifier.handle({ type: 'agent-failed', message: next.message });
      render();
    },
    setAgentState(state) {
      const previous = agent;
      agent = state;
      deps.notifier.handle({ type: 'agent-state', previous, next: state });
      render();
      if (!previous || previous.state !== state.state) void refresh();
    },
    notify: (event) => deps.notifier.handle(event),
    rememberPassword(password) {
      try {
        deps.passwords?.remember(password);
      } catch (error) {
        deps.warn('could not keep the wallet password', { error: error instanceof Error ? error.message : String(error) });
        void call(() => deps.client.call('desktop.settings', { rememberWalletPassword: false }));
      }
      reportHost();
    },
    reportHost: () => {
      reportHost();
      render();
    },
    get settings() {
      return settings;
    },
    action(action) {
      switch (action) {
        case 'open':
          return deps.openPage(null);
        case 'open-jobs':
          return deps.openPage('jobs');
        case 'open-earnings':
          return deps.openPage('earnings');
        case 'open-wallet':
          return deps.openPage('wallet');
        case 'open-bench':
          // The benchmark page arrives with the benchmarks issue (`bench.run`); until then the GPUs page.
          return deps.openPage(isCommandName('bench.run') ? 'bench' : 'gpus');
        case 'pause-hour':
          return pause({ forMinutes: 60 });
        case 'pause-tomorrow':
          return pause({ until: startOfTomorrow(now()) });
        case 'resume':
          return pause(null);
        case 'install-update':
          return deps.updater()?.installNow();
        case 'quit':
          return deps.quit();
      }
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const u of unsubscribers) u();
    },
  };
}

export { formatAmount };
