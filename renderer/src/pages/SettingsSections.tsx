/** The Settings page's sections of the desktop app's own settings: this app (login, tray), notifications and updates; and their labelled field. */
import type { ReactNode } from 'react';
import type { DesktopSettings, DesktopView, NotificationKind } from '../../../runtime/desktop/schema.js';
import { notificationKinds } from '../../../runtime/desktop/schema.js';
import { LockNote } from '../components/LockNote.js';
import type { SaveSetting } from './useDesktopSettings.js';

const KIND_LABELS: Record<NotificationKind, string> = {
  paused: 'Work paused, and why (once per reason a day)',
  resumed: 'Work resumed',
  jobFinished: 'A job finished, and what it earned',
  vouchersRedeemed: 'Earnings redeemed to the wallet',
  failures: 'The agent or Docker failed, and what to do',
  gpuOutOfService: 'A GPU taken out of service',
  walletLocked: 'The wallet is locked, so earnings cannot be redeemed',
};

/** What each section reads and edits: the settings, what the desktop app reports, the locked paths, and a save of one change. */
export interface SettingsSectionProps {
  s: DesktopSettings;
  host: DesktopView['host'];
  locked: (path: string) => boolean;
  busy: boolean;
  save: SaveSetting;
}

export function Field({ label, locked, children }: { label: string; locked: boolean; children: ReactNode }) {
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

export function HostSection({ s, host, locked, busy, save }: SettingsSectionProps) {
  return (
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
  );
}

export function NotificationsSection({ s, locked, busy, save }: SettingsSectionProps) {
  return (
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
  );
}

export function UpdatesSection({ s, host, locked, busy, save }: SettingsSectionProps) {
  return (
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
  );
}
