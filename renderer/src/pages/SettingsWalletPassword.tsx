/** The Settings page's wallet password section: remember it in the OS keychain (asked in a small form), or forget it. */
import { Field, type SettingsSectionProps } from './SettingsSections.js';

interface WalletPasswordProps extends SettingsSectionProps {
  /** The password being typed, while the form is open (`asking`). */
  password: string;
  onPassword: (text: string) => void;
  asking: boolean;
  onAsking: (asking: boolean) => void;
  onRemember: () => void;
}

export function WalletPasswordSection({ s, host, locked, busy, save, password, onPassword, asking, onAsking, onRemember }: WalletPasswordProps) {
  const keychain = host?.keychain ?? null;
  return (
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
            onRemember();
          }}
        >
          <input type="password" autoComplete="current-password" placeholder="Wallet password" value={password} onChange={(e) => onPassword(e.target.value)} aria-label="Wallet password" data-testid="set-password" />
          <button type="submit" className="button button-primary" disabled={busy || password.length === 0}>
            Remember
          </button>
          <button type="button" className="button" onClick={() => (onAsking(false), onPassword(''))}>
            Cancel
          </button>
        </form>
      ) : (
        <Field label="Unlock the wallet at start with a password kept in the OS keychain" locked={locked('rememberWalletPassword')}>
          <button type="button" className="button" disabled={busy || !keychain?.available || locked('rememberWalletPassword')} onClick={() => onAsking(true)} data-testid="set-remember-password">
            Remember the password…
          </button>
        </Field>
      )}
    </section>
  );
}
