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
import { isFinalState } from '../../runtime/jobs/schema.js';
import type { MainClient } from '../agent/main-client.js';
import type { Notifier } from '../notifications/notifier.js';
import type { NotifyEvent } from '../notifications/policy.js';
import { formatAmount, startOfTomorrow, trayMenu, type AgentLink, type TrayAction } from '../tray/menu.js';
import type { AppTray } from '../tray/tray.js';
import type { PasswordMemory } from './password-memory.js';
import { EMPTY_TRAY_DATA, jobLabel, orNull, TrayDataReader, type TrayData } from './tray-data.js';
import type { Updater } from './updater.js';

/** How often the tray re-reads earnings and jobs when nothing happened (the elapsed times move). */
export const TRAY_REFRESH_MS = 60_000;

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

/** The agent's report about this app (`desktop.host`, shown on the Settings page). */
function hostReport(deps: ControllerDeps) {
  return {
    mode: deps.mode,
    keychain: deps.passwords?.status() ?? { available: false, backend: 'none', reason: 'The system service keeps no password: unlock the wallet on the Wallet page.' },
    passwordRemembered: deps.passwords?.remembered ?? false,
    update: deps.updater()?.status ?? 'Updates are off.',
    openAtLogin: deps.loginItemEnabled(),
  };
}

/** The remembered password unlocks the wallet at start. */
async function unlockWithRememberedPassword(deps: ControllerDeps, settings: DesktopSettings): Promise<void> {
  const password = settings.rememberWalletPassword ? deps.passwords?.recall() : null;
  if (!password || !deps.walletExists()) return;
  const wallet = await orNull(() => deps.client.call('wallet.status', {}));
  if (wallet && wallet.exists && !wallet.unlocked) {
    const unlocked = await orNull(() => deps.client.call('wallet.unlock', { password }));
    if (!unlocked) deps.warn('the remembered wallet password did not unlock the wallet; forget it in Settings and unlock by hand');
  }
}

/** Keeps the wallet password in the OS keychain; when that fails, the setting goes back off. */
function keepPassword(deps: ControllerDeps, password: string): void {
  try {
    deps.passwords?.remember(password);
  } catch (error) {
    deps.warn('could not keep the wallet password', { error: error instanceof Error ? error.message : String(error) });
    void orNull(() => deps.client.call('desktop.settings', { rememberWalletPassword: false }));
  }
}

/** Snoozes (for a while, until a time) or resumes, from the tray. */
function snoozeFromTray(deps: ControllerDeps, input: { forMinutes?: number; until?: string } | null, then: () => void): void {
  const request = input ? deps.client.call('agent.pause', input) : deps.client.call('agent.resume', {});
  request.then(then, (error: unknown) => deps.warn('the tray could not change the snooze', { error: error instanceof Error ? error.message : String(error) }));
}

function runTrayAction(action: TrayAction, deps: ControllerDeps, now: () => number, refresh: () => void): void {
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
      return snoozeFromTray(deps, { forMinutes: 60 }, refresh);
    case 'pause-tomorrow':
      return snoozeFromTray(deps, { until: startOfTomorrow(now()) }, refresh);
    case 'resume':
      return snoozeFromTray(deps, null, refresh);
    case 'install-update':
      return deps.updater()?.installNow();
    case 'quit':
      return deps.quit();
  }
}

/** Runs `read` once at a time; a call while it runs runs it once more afterwards. */
function coalesced(read: () => Promise<void>, stopped: () => boolean): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  const run = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = read().finally(() => {
      running = null;
      if (again && !stopped()) {
        again = false;
        void run();
      }
    });
    return running;
  };
  return run;
}

/** The agent's events the tray and the notifications follow. */
function listen(deps: ControllerDeps, on: { onConnect: () => Promise<void>; apply: (view: DesktopView) => void; refresh: () => Promise<void> }): Array<() => void> {
  const { onConnect, apply, refresh } = on;
  return [
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
}

export function createDesktopController(deps: ControllerDeps): DesktopController {
  const now = deps.now ?? Date.now;
  const reader = new TrayDataReader(deps);
  let link: AgentLink = { status: 'starting' };
  let agent: AgentState | null = null;
  let settings: DesktopSettings = defaultDesktopSettings;
  let data: TrayData = EMPTY_TRAY_DATA;
  let stopped = false;

  const render = () => {
    if (stopped) return;
    const updater = deps.updater();
    deps.tray?.render(trayMenu({ link, agent, mode: deps.mode, ...data, updateReady: updater?.ready ?? null, now: now() }));
  };
  /** Re-reads what the tray shows; coalesces concurrent calls. */
  const refresh = coalesced(async () => {
    if (!deps.client.connected) return;
    data = await reader.read(data);
    render();
  }, () => stopped);
  const reportHost = () => {
    if (deps.client.connected) void orNull(() => deps.client.call('desktop.host', { host: hostReport(deps) }));
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
    const view = await orNull(() => deps.client.call('desktop.settings', {}));
    if (view) apply(view);
    reportHost();
    await unlockWithRememberedPassword(deps, settings);
    await refresh();
  };

  const unsubscribers = listen(deps, { onConnect, apply, refresh });
  const timer = setInterval(() => void refresh(), TRAY_REFRESH_MS);
  timer.unref?.();
  render();

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
      keepPassword(deps, password);
      reportHost();
    },
    reportHost: () => {
      reportHost();
      render();
    },
    get settings() {
      return settings;
    },
    action: (action) => runTrayAction(action, deps, now, () => void refresh()),
    stop() {
      stopped = true;
      clearInterval(timer);
      for (const u of unsubscribers) u();
    },
  };
}

export { formatAmount };
