/** The retention settings' state: the rule and what job folders use (`jobs.retention`, re-read every 30 s), the fields being typed, and the save. */
import { useCallback, useEffect, useState } from 'react';
import type { CommandInput, CommandOutput } from '../../../runtime/api/contract.js';
import { formatBytes } from '../lib/market.js';
import { useDashboard } from '../store/dashboard-store.js';
import { client, message } from '../api/agent-call.js';

export type RetentionView = CommandOutput<'jobs.retention'>;
export type RetentionPatch = CommandInput<'jobs.retention'>;

export function useRetention() {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [view, setView] = useState<RetentionView | null>(null);
  const [days, setDays] = useState('');
  const [mib, setMib] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const show = useCallback((v: RetentionView) => {
    setView(v);
    setDays(String(v.effective.maxAgeDays));
    setMib(String(v.effective.maxTotalMiB));
  }, []);
  const load = useCallback(async () => {
    try {
      show(await client().call('jobs.retention', {}));
    } catch (e) {
      setError(message(e));
    }
  }, [show]);
  useEffect(() => {
    if (!connected) return;
    void load();
    // What the folders use changes as jobs end and the rule applies: follow it while the page is open.
    const timer = setInterval(() => void load(), 30_000);
    return () => clearInterval(timer);
  }, [connected, load]);

  const locked = (field: keyof RetentionPatch) => view!.locked.includes(`retention.${field}`);
  const save = async () => {
    const v = view!;
    const patch: RetentionPatch = {};
    const d = Number(days);
    const m = Number(mib);
    if (!locked('maxAgeDays') && d !== v.effective.maxAgeDays) patch.maxAgeDays = d;
    if (!locked('maxTotalMiB') && m !== v.effective.maxTotalMiB) patch.maxTotalMiB = m;
    if (Object.keys(patch).length === 0) return;
    if (!Number.isInteger(d) || d < 1 || d > 3650) return setError(`Keep outputs between 1 and 3650 days (whole days); "${days}" is not one.`);
    if (!Number.isInteger(m) || m < 16) return setError(`Keep at least 16 MiB of outputs (a whole number); "${mib}" is not one.`);
    setBusy(true);
    try {
      const before = v.usage.bytes;
      const next = await client().call('jobs.retention', patch);
      show(next);
      setError(null);
      const freed = before - next.usage.bytes;
      setSaved(freed > 0 ? `Saved and applied: ${formatBytes(freed)} of old outputs removed.` : 'Saved: applied now and every few minutes.');
    } catch (e) {
      setError(message(e));
      setSaved(null);
    } finally {
      setBusy(false);
    }
  };

  return { view, days, setDays, mib, setMib, error, saved, busy, locked, save };
}
