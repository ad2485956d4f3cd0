/** The Schedule page's state: the agent's view, the draft being edited, the painted grid, and its API calls (load, save, snooze). */
import { useCallback, useEffect, useState } from 'react';
import type { ScheduleSettings, ScheduleView, SchedulePatch, ScheduleWindow } from '../../../runtime/schedule/schema.js';
import { gridFromWindows, type Grid } from '../lib/schedule-grid.js';
import { useDashboard } from '../store/dashboard-store.js';
import { client, message } from '../api/agent-call.js';

/** The fields of a patch that differ from the effective settings (leaves; lists whole). */
export function changedFields(draft: ScheduleSettings, effective: ScheduleSettings, locked: readonly string[]): SchedulePatch {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(draft) as Array<keyof ScheduleSettings>) {
    if (key === 'snoozeUntil' || key === 'pausedUntilResumed') continue; // snooze has its own buttons
    const a = draft[key];
    const b = effective[key];
    if (a !== null && typeof a === 'object' && !Array.isArray(a)) {
      const sub: Record<string, unknown> = {};
      for (const k of Object.keys(a)) {
        const v = (a as Record<string, unknown>)[k];
        if (JSON.stringify(v) !== JSON.stringify((b as Record<string, unknown>)[k]) && !locked.includes(`schedule.${key}.${k}`)) sub[k] = v;
      }
      if (Object.keys(sub).length > 0) out[key] = sub;
    } else if (JSON.stringify(a) !== JSON.stringify(b) && !locked.includes(`schedule.${key}`)) {
      out[key] = a;
    }
  }
  return out as SchedulePatch;
}

/** What a snooze button asks: a pause for some minutes or until a time, or the end of the pause. */
export type SnoozeInput = { forMinutes?: number; until?: string } | 'resume';

/** The agent's view of the schedule, loaded on connect; the decision and the snooze follow the agent's state. */
function useScheduleView() {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const agentState = useDashboard((s) => s.agent);
  const [view, setView] = useState<ScheduleView | null>(null);
  const [draft, setDraft] = useState<ScheduleSettings | null>(null);
  const [grid, setGrid] = useState<Grid | null>(null);
  const [error, setError] = useState<string | null>(null);

  const apply = useCallback((v: ScheduleView) => {
    setView(v);
    setDraft(v.effective);
    setGrid(gridFromWindows(v.effective.windows));
  }, []);

  const load = useCallback(async () => {
    try {
      apply(await client().call('schedule.get'));
      setError(null);
    } catch (e) {
      setError(message(e));
    }
  }, [apply]);

  useEffect(() => {
    if (connected) void load();
  }, [connected, load]);
  // The decision and the snooze shown on this page follow the agent's state.
  const stateKey = `${agentState?.reason ?? ''}|${agentState?.detail ?? ''}`;
  useEffect(() => {
    if (!connected) return;
    client()
      .call('schedule.get')
      .then(
        (v) =>
          setView((old) =>
            old ? { ...old, decision: v.decision, notes: v.notes, effective: { ...old.effective, snoozeUntil: v.effective.snoozeUntil, pausedUntilResumed: v.effective.pausedUntilResumed } } : old,
          ),
        () => {},
      );
  }, [connected, stateKey]);

  return { connected, view, setView, draft, setDraft, grid, setGrid, error, setError, apply };
}

export function useSchedule() {
  const { connected, view, setView, draft, setDraft, grid, setGrid, error, setError, apply } = useScheduleView();
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  /** A change to the draft: the "Saved." note goes. */
  const edit = (next: ScheduleSettings) => {
    setDraft(next);
    setSaved(null);
  };
  const paint = (g: Grid) => (setGrid(g), setSaved(null));

  const save = async (windows: ScheduleWindow[] | null, patch: SchedulePatch) => {
    if (windows === null) {
      setError('Paint at least one hour on the grid (or choose "Never" to stop work altogether).');
      return;
    }
    setBusy(true);
    try {
      apply(await client().call('schedule.set', patch));
      setError(null);
      setSaved('Saved.');
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };
  const snooze = async (input: SnoozeInput) => {
    setBusy(true);
    try {
      const v = input === 'resume' ? await client().call('agent.resume') : await client().call('agent.pause', input);
      setView(v);
      setDraft({ ...draft!, snoozeUntil: v.effective.snoozeUntil, pausedUntilResumed: v.effective.pausedUntilResumed });
      setError(null);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  return { connected, view, draft, grid, error, saved, busy, apply, edit, paint, save, snooze };
}
