/** The Settings page's state: the desktop settings (`desktop.settings`, followed while open), saving a change at once, and remembering the wallet password. */
import { useCallback, useEffect, useState } from 'react';
import type { DesktopPatch, DesktopView } from '../../../runtime/desktop/schema.js';
import { useDashboard } from '../store/dashboard-store.js';
import { client, message } from '../api/agent-call.js';

/** Saves one change; `done` is the note shown once the agent took it. */
export type SaveSetting = (patch: DesktopPatch, done?: string) => Promise<void>;

export function useDesktopSettings() {
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

  const save: SaveSetting = async (patch, done = 'Saved.') => {
    // Shown at once (a checkbox follows the click); the agent's answer replaces it, and a
    // refusal puts the stored value back.
    setView({ ...view!, effective: { ...view!.effective, ...patch, notifications: { ...view!.effective.notifications, ...patch.notifications } } });
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

  return { view, error, saved, busy, save, password, setPassword, asking, setAsking, remember };
}
