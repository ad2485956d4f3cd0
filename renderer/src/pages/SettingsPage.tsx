/**
 * The Settings page: the desktop app's own settings (open at login, close to tray, each kind of
 * notification, the update channel, the wallet password in the OS keychain). The agent stores
 * them (`desktop.settings`), so the page works the same in the window and in a browser; the
 * desktop app applies them and reports what it can do (`host`: attached to the service or not,
 * whether there is a real keychain, the update status). Each change saves at once; fields an
 * administrator set are shown locked. Below them, how long finished jobs' outputs and logs are
 * kept (RetentionSettings.tsx). The state and API calls are in useDesktopSettings.ts, the
 * sections in SettingsSections.tsx and SettingsWalletPassword.tsx.
 */
import { ErrorBanner } from '../components/ErrorBanner.js';
import { RetentionSettings } from './RetentionSettings.js';
import { HostSection, NotificationsSection, UpdatesSection } from './SettingsSections.js';
import { WalletPasswordSection } from './SettingsWalletPassword.js';
import { useDesktopSettings } from './useDesktopSettings.js';
import './settings.css';

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
  const { view, error, saved, busy, save, password, setPassword, asking, setAsking, remember } = useDesktopSettings();

  if (!view) {
    return <div className="page settings-page">{error ? <ErrorBanner text={error} testId="settings-error" /> : <div className="card skeleton" aria-busy="true">Loading the settings…</div>}</div>;
  }

  const locked = (path: string) => view.locked.some((l) => l === `desktop.${path}` || l.startsWith(`desktop.${path}.`));
  const section = { s: view.effective, host: view.host, locked, busy, save };

  return (
    <div className="page settings-page">
      {error ? <ErrorBanner text={error} testId="settings-error" /> : null}
      {saved ? (
        <p className="muted" role="status" data-testid="settings-saved">
          {saved}
        </p>
      ) : null}

      <HostSection {...section} />
      <NotificationsSection {...section} />
      <UpdatesSection {...section} />
      <WalletPasswordSection {...section} password={password} onPassword={setPassword} asking={asking} onAsking={setAsking} onRemember={() => void remember()} />

      <RetentionSettings />
    </div>
  );
}
