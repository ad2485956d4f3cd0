/**
 * The Settings page: the desktop app's own settings (open at login, close to tray, each kind of
 * notification, the update channel, the wallet password in the OS keychain). The agent stores
 * them (`desktop.settings`), so the page works the same in the window and in a browser; the
 * desktop app applies them and reports what it can do (`host`: attached to the service or not,
 * whether there is a real keychain, the update status). Each change saves at once; fields an
 * administrator set are shown locked. Below them, how long finished jobs' outputs and logs are
 * kept (RetentionSettings.tsx).
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError } from '../../../runtime/api/client.js';
import type { DesktopPatch, DesktopView, NotificationKind } from '../../../runtime/desktop/schema.js';
import { notificationKinds } from '../../../runtime/desktop/schema.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { LockNote } from '../components/LockNote.js';
import { RetentionSettings } from './RetentionSettings.js';
import { useDashboard } from '../store/dashboard-store.js';
import { startSession } from '../store/session.js';
import './settings.css';

const client = () => startSession().client;
const message = (error: unknown) => (error instanceof ApiError || error instanceof Error ? error.message : String(error));

const KIND_LABELS: Record<NotificationKind, string> = {
  paused: 'Work paused, and why (once per reason a day)',
  resumed: 'Work resumed',
  jobFinished: 'A job finished, and what it earned',
  vouchersRedeemed: 'Earnings redeemed to the wallet',
  failures: 'The agent or Docker failed, and what to do',
  gpuOutOfService: 'A GPU taken out of service',
  walletLocked: 'The wallet is locked, so earnings cannot be redeemed',
};

/** The navigation icon: a gear. */
export function SettingsIcon() {
  return (
    <svg width={18} height={18} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <circle cx="12" cy="12" r="3" />
      <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
    </svg>
  );
}

export function SettingsPage() {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [view, setView] = useState<DesktopView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [password, setPassword] = useState('');
  const [asking, setAsking] = useState(false);

  const load = useCallback(async () => {
    try {
      setView(await client().call('desktop.settings', {}));
      setError(null);
    } catch (e) {
      setError(message(e));
    }
  }, []);
  useEffect(() => {
    if (!connected) return;
    void load();
    // The desktop app (or another page) changed something: follow it.
    return client().on('desktop.settings', (v) => setView(v));
  }, [connected, load]);

  if (!view) {
    return <div className="page settings-page">{error ? <ErrorBanner text={error} testId="settings-error" /> : <div className="card skeleton" aria-busy="true">Loading the settings…</div>}</div>;
  }

  const locked = (path: string) => view.locked.some((l) => l === `desktop.${path}` || l.startsWith(`desktop.${path}.`));
  const save = async (patch: DesktopPatch, done = 'Saved.') => {
    // Shown at once (a checkbox follows the click); the agent's answer replaces it, and a
    // refusal puts the stored value back.
    setView({ ...view, effective: { ...view.effective, ...patch, notifications: { ...view.effective.notifications, ...patch.notifications } } });
    setBusy(true);
    try {
      setView(await client().call('desktop.settings', patch));
      setError(null);
      setSaved(done);
    } catch (e) {
      setError(message(e));
      setSaved(null);
      void load();
    } finally {
      setBusy(false);
    }
  };
  const remember = async () => {
    setBusy(true);
    try {
      setView(await client().call('desktop.rememberPassword', { password }));
      setPassword('');
      setAsking(false);
      setError(null);
      setSaved('The password is in the OS keychain: the wallet unlocks when Offshift starts.');
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const s = view.effective;
  const host = view.host;
  const keychain = host?.keychain ?? null;

  return (
    <div className="page settings-page">
      {error ? <ErrorBanner text={error} testId="settings-error" /> : null}
      {saved ? (
        <p className="muted" role="status" data-testid="settings-saved">
          {saved}
        </p>
      ) : null}

      <section className="card set-section" data-testid="settings-host">
        <h3>This app</h3>
        {host ? (
          <p className="set-note">
            {host.mode === 'service'
              ? 'The desktop app is attached to the Offshift system service: the agent keeps working when the app is closed.'
              : 'The desktop app runs its own agent.'}
          </p>
        ) : (
          <p className="set-note" data-testid="settings-no-host">
            No desktop app is attached to this agent (a headless agent in a browser): these settings are kept and apply when the desktop app runs with this data folder.
          </p>
        )}
        <Field label="Open Offshift at login (hidden, in the tray)" locked={locked('openAtLogin')}>
          <input type="checkbox" checked={s.openAtLogin} disabled={busy || locked('openAtLogin')} onChange={(e) => void save({ openAtLogin: e.target.checked })} data-testid="set-open-at-login" />
        </Field>
        <Field label="Closing the window keeps Offshift in the tray" locked={locked('closeToTray')}>
          <input type="checkbox" checked={s.closeToTray} disabled={busy || locked('closeToTray')} onChange={(e) => void save({ closeToTray: e.target.checked })} data-testid="set-close-to-tray" />
        </Field>
      </section>

      <section className="card set-section">
        <h3>Notifications</h3>
        {notificationKinds.map((kind) => (
          <Field key={kind} label={KIND_LABELS[kind]} locked={locked(`notifications.${kind}`)}>
            <input
              type="checkbox"
              checked={s.notifications[kind]}
              disabled={busy || locked(`notifications.${kind}`)}
              onChange={(e) => void save({ notifications: { [kind]: e.target.checked } })}
              data-testid={`set-notify-${kind}`}
            />
          </Field>
        ))}
      </section>

      <section className="card set-section">
        <h3>Updates</h3>
        <Field label="Channel" locked={locked('updateChannel')}>
          <div className="set-segment" role="radiogroup" aria-label="Update channel">
            {(['stable', 'beta'] as const).map((c) => (
              <button key={c} type="button" role="radio" aria-checked={s.updateChannel === c} className={s.updateChannel === c ? 'active' : undefined} disabled={busy || locked('updateChannel')} onClick={() => void save({ updateChannel: c })} data-testid={`set-channel-${c}`}>
                {c === 'stable' ? 'Stable' : 'Beta'}
              </button>
            ))}
          </div>
        </Field>
        <p className="set-note" data-testid="set-update-status">
          {host ? host.update : 'Updates are handled by the desktop app.'}
        </p>
      </section>

      <section className="card set-section">
        <h3>Wallet password</h3>
        {keychain && !keychain.available ? (
          <p className="set-note" data-testid="set-keychain-reason">
            {keychain.reason}
          </p>
        ) : null}
        {!host ? <p className="set-note">Only the desktop app can keep the password in the OS keychain.</p> : null}
        {s.rememberWalletPassword && host?.passwordRemembered ? (
          <Field label={`Remembered in ${keychain?.backend ?? 'the OS keychain'}`} locked={locked('rememberWalletPassword')}>
            <button type="button" className="button" disabled={busy || locked('rememberWalletPassword')} onClick={() => void save({ rememberWalletPassword: false }, 'Forgotten: the wallet now needs its password after each start.')} data-testid="set-forget-password">
              Forget the password
            </button>
          </Field>
        ) : asking ? (
          <form
            className="set-control"
            onSubmit={(e) => {
              e.preventDefault();
              void remember();
            }}
          >
            <input type="password" autoComplete="current-password" placeholder="Wallet password" value={password} onChange={(e) => setPassword(e.target.value)} aria-label="Wallet password" data-testid="set-password" />
            <button type="submit" className="button button-primary" disabled={busy || password.length === 0}>
              Remember
            </button>
            <button type="button" className="button" onClick={() => (setAsking(false), setPassword(''))}>
              Cancel
            </button>
          </form>
        ) : (
          <Field label="Unlock the wallet at start with a password kept in the OS keychain" locked={locked('rememberWalletPassword')}>
            <button type="button" className="button" disabled={busy || !keychain?.available || locked('rememberWalletPassword')} onClick={() => setAsking(true)} data-testid="set-remember-password">
              Remember the password…
            </button>
          </Field>
        )}
      </section>

      <RetentionSettings />
    </div>
  );
}

function Field({ label, locked, children }: { label: string; locked: boolean; children: ReactNode }) {
  return (
    <label className={`set-field${locked ? ' is-locked' : ''}`}>
      <span className="set-label">{label}</span>
      <span className="set-control">
        {children}
        {locked ? (
          <LockNote kind="setting" />
        ) : null}
      </span>
    </label>
  );
}
