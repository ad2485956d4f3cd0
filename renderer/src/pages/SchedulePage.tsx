/**
 * The Schedule page: when this machine may work. A weekly grid painted with the mouse, idle
 * minutes, exclusive apps (with a picker of running apps), foreign GPU use, heat, battery,
 * what happens when the owner returns, and snooze. Fields an administrator set are shown
 * locked. Saves only what changed (schedule.set); the agent refuses locked fields anyway.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError } from '../../../runtime/api/client.js';
import type { ScheduleSettings, ScheduleView, SchedulePatch } from '../../../runtime/schedule/schema.js';
import { DAYS } from '../../../runtime/schedule/schema.js';
import { Icon } from '../components/icons.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { LockNote } from '../components/LockNote.js';
import { DAY_LABELS, gridFromWindows, paintRect, windowsFromGrid, type Grid } from '../lib/schedule-grid.js';
import { useDashboard } from '../store/dashboard-store.js';
import { startSession } from '../store/session.js';
import './schedule.css';

/** The navigation icon: a clock. */
export function ScheduleIcon() {
  return (
    <svg width={18} height={18} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <circle cx="12" cy="12" r="9" />
      <path d="M12 7v5l3 2" />
    </svg>
  );
}

const client = () => startSession().client;
const message = (error: unknown) => (error instanceof ApiError || error instanceof Error ? error.message : String(error));

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

function tomorrowMorning(now = new Date()): Date {
  const d = new Date(now);
  d.setDate(d.getDate() + 1);
  d.setHours(8, 0, 0, 0);
  return d;
}

export function SchedulePage() {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const agentState = useDashboard((s) => s.agent);
  const [view, setView] = useState<ScheduleView | null>(null);
  const [draft, setDraft] = useState<ScheduleSettings | null>(null);
  const [grid, setGrid] = useState<Grid | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

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

  if (!view || !draft || !grid) {
    return (
      <div className="page">
        {error ? <ErrorBanner title="Could not save" text={error} testId="schedule-error" /> : <div className="card skeleton" aria-busy="true">Loading the schedule…</div>}
      </div>
    );
  }

  const locked = (path: string) => view.locked.some((l) => l === `schedule.${path}` || l.startsWith(`schedule.${path}.`));
  const windows = windowsFromGrid(grid);
  const patch = changedFields({ ...draft, windows: windows ?? draft.windows }, view.effective, view.locked);
  const dirty = Object.keys(patch).length > 0;
  const set = <K extends keyof ScheduleSettings>(key: K, value: ScheduleSettings[K]) => {
    setDraft({ ...draft, [key]: value });
    setSaved(null);
  };

  const save = async () => {
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
  const snooze = async (input: { forMinutes?: number; until?: string } | 'resume') => {
    setBusy(true);
    try {
      const v = input === 'resume' ? await client().call('agent.resume') : await client().call('agent.pause', input);
      setView(v);
      setDraft({ ...draft, snoozeUntil: v.effective.snoozeUntil, pausedUntilResumed: v.effective.pausedUntilResumed });
      setError(null);
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  const eff = view.effective;
  const snoozed = eff.pausedUntilResumed || (eff.snoozeUntil !== null && new Date(eff.snoozeUntil).getTime() > Date.now());

  return (
    <div className="page schedule-page">
      <div className="toolbar">
        <p className="muted" data-testid="schedule-decision">
          {view.decision ? view.decision.detail : 'No decision yet.'}
          {view.notes.length > 0 ? ` · ${view.notes.join(' · ')}` : ''}
        </p>
        <div className="toolbar-actions">
          <button type="button" className="button" onClick={() => apply(view)} disabled={!dirty || busy}>
            Revert
          </button>
          <button type="button" className="button button-primary" onClick={() => void save()} disabled={!dirty || busy || !connected} data-testid="schedule-save">
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </div>
      {error ? <ErrorBanner title="Could not save" text={error} testId="schedule-error" /> : null}
      {saved && !dirty ? (
        <p className="muted small" role="status" data-testid="schedule-saved">
          {saved}
        </p>
      ) : null}
      {view.policy.state !== 'none' ? (
        <div className={`banner ${view.policy.state === 'invalid' ? 'banner-fail' : 'banner-warn'}`} data-testid="schedule-policy">
          <Icon name={view.policy.state === 'invalid' ? 'fail' : 'key'} />
          <div className="banner-text">
            <strong>{view.policy.state === 'invalid' ? 'The administrator policy is invalid' : 'Some settings are set by your administrator'}</strong>
            <span>{view.policy.message}</span>
          </div>
        </div>
      ) : null}

      <section className="card sched-section">
        <h3>Snooze</h3>
        <p className="muted small" data-testid="snooze-status">
          {eff.pausedUntilResumed ? 'Paused until you resume.' : snoozed ? `Paused until ${new Date(eff.snoozeUntil!).toLocaleString()}.` : 'Not snoozed.'}
        </p>
        <div className="sched-row">
          <button type="button" className="button" disabled={busy || locked('snoozeUntil')} onClick={() => void snooze({ forMinutes: 60 })} data-testid="snooze-hour">
            Pause for 1 hour
          </button>
          <button type="button" className="button" disabled={busy || locked('snoozeUntil')} onClick={() => void snooze({ until: tomorrowMorning().toISOString() })} data-testid="snooze-morning">
            Until tomorrow 08:00
          </button>
          <button type="button" className="button" disabled={busy || !snoozed} onClick={() => void snooze('resume')} data-testid="snooze-resume">
            Resume
          </button>
        </div>
      </section>

      <section className="card sched-section">
        <h3>Mode</h3>
        <Field label="Run work" locked={locked('mode')}>
          <div className="segmented" role="radiogroup" aria-label="Mode">
            {(['auto', 'always', 'never'] as const).map((m) => (
              <button key={m} type="button" role="radio" aria-checked={draft.mode === m} className={draft.mode === m ? 'active' : undefined} disabled={locked('mode')} onClick={() => set('mode', m)} data-testid={`mode-${m}`}>
                {m === 'auto' ? 'By schedule' : m === 'always' ? 'Always' : 'Never'}
              </button>
            ))}
          </div>
        </Field>
        <p className="muted small">
          “Always” ignores the grid and the idle rule, never your games, other programs on the GPU, heat, battery or a snooze.
        </p>
      </section>

      <section className="card sched-section">
        <h3>Weekly hours</h3>
        <p className="muted small">
          Drag to paint hours on or off. Times are in {view.timezone}
          {eff.timezone === null ? " (this computer's zone)" : ''}. A fully painted week means any time.
        </p>
        <WeekGrid grid={grid} disabled={locked('windows')} onChange={(g) => (setGrid(g), setSaved(null))} />
        {locked('windows') ? <LockNote /> : null}
        {windows === null ? <p className="status-fail small">No hours painted: paint at least one, or choose “Never”.</p> : null}
      </section>

      <section className="card sched-section">
        <h3>Only when I’m away</h3>
        <Field label="Wait until the computer is idle" locked={locked('idle.required')}>
          <input type="checkbox" checked={draft.idle.required} disabled={locked('idle.required')} onChange={(e) => set('idle', { ...draft.idle, required: e.target.checked })} data-testid="idle-required" />
        </Field>
        <Field label="Idle for (minutes)" locked={locked('idle.minutes')}>
          <NumberInput value={draft.idle.minutes} min={0} max={1440} disabled={locked('idle.minutes') || !draft.idle.required} onChange={(v) => set('idle', { ...draft.idle, minutes: v })} testId="idle-minutes" />
        </Field>
      </section>

      <section className="card sched-section">
        <h3>Games and apps</h3>
        <ExclusiveApps apps={draft.exclusiveApps} disabled={locked('exclusiveApps')} onChange={(apps) => set('exclusiveApps', apps)} />
        {locked('exclusiveApps') ? <LockNote /> : null}
        <Field label="Pause when another program uses the GPU" locked={locked('pauseOnForeignGpuUse')}>
          <input type="checkbox" checked={draft.pauseOnForeignGpuUse} disabled={locked('pauseOnForeignGpuUse')} onChange={(e) => set('pauseOnForeignGpuUse', e.target.checked)} />
        </Field>
        <Field label="…using at least (MiB)" locked={locked('foreignGpuMinMiB')}>
          <NumberInput value={draft.foreignGpuMinMiB} min={0} max={1_000_000} disabled={locked('foreignGpuMinMiB') || !draft.pauseOnForeignGpuUse} onChange={(v) => set('foreignGpuMinMiB', v)} />
        </Field>
      </section>

      <section className="card sched-section">
        <h3>Heat and battery</h3>
        <Field label="Pause at (°C)" locked={locked('thermal.pauseAtC')}>
          <NumberInput value={draft.thermal.pauseAtC} min={30} max={120} disabled={locked('thermal.pauseAtC')} onChange={(v) => set('thermal', { ...draft.thermal, pauseAtC: v })} testId="thermal-pause" />
        </Field>
        <Field label="Resume below (°C)" locked={locked('thermal.resumeBelowC')}>
          <NumberInput value={draft.thermal.resumeBelowC} min={20} max={120} disabled={locked('thermal.resumeBelowC')} onChange={(v) => set('thermal', { ...draft.thermal, resumeBelowC: v })} testId="thermal-resume" />
        </Field>
        <Field label="Pause on battery" locked={locked('pauseOnBattery')}>
          <input type="checkbox" checked={draft.pauseOnBattery} disabled={locked('pauseOnBattery')} onChange={(e) => set('pauseOnBattery', e.target.checked)} />
        </Field>
      </section>

      <section className="card sched-section">
        <h3>When I come back</h3>
        <Field label="Running jobs" locked={locked('onUserReturn')}>
          <select value={draft.onUserReturn} disabled={locked('onUserReturn')} onChange={(e) => set('onUserReturn', e.target.value as 'stop' | 'pause')} data-testid="on-return">
            <option value="stop">Stop them: free the GPU now</option>
            <option value="pause">Freeze them: keep their memory, resume later</option>
          </select>
        </Field>
        {draft.onUserReturn === 'pause' ? (
          <Field label="Stop frozen jobs after (minutes)" locked={locked('pauseGraceMinutes')}>
            <NumberInput value={draft.pauseGraceMinutes} min={0} max={1440} disabled={locked('pauseGraceMinutes')} onChange={(v) => set('pauseGraceMinutes', v)} />
          </Field>
        ) : (
          <Field label="Grace before a forced stop (seconds)" locked={locked('stopGraceSeconds')}>
            <NumberInput value={draft.stopGraceSeconds} min={0} max={60} disabled={locked('stopGraceSeconds')} onChange={(v) => set('stopGraceSeconds', v)} />
          </Field>
        )}
      </section>
    </div>
  );
}

function Field({ label, locked, children }: { label: string; locked: boolean; children: ReactNode }) {
  return (
    <label className={`sched-field${locked ? ' is-locked' : ''}`} data-locked={locked ? 'true' : 'false'}>
      <span className="sched-label">{label}</span>
      <span className="sched-control">
        {children}
        {locked ? <LockNote /> : null}
      </span>
    </label>
  );
}

function NumberInput({ value, min, max, disabled, onChange, testId }: { value: number; min: number; max: number; disabled: boolean; onChange: (v: number) => void; testId?: string }) {
  const [text, setText] = useState(String(value));
  useEffect(() => setText(String(value)), [value]);
  return (
    <input
      type="number"
      className="sched-number"
      value={text}
      min={min}
      max={max}
      disabled={disabled}
      data-testid={testId}
      onChange={(e) => {
        setText(e.target.value);
        const n = Number(e.target.value);
        if (e.target.value !== '' && Number.isFinite(n) && n >= min && n <= max) onChange(n);
      }}
    />
  );
}

function WeekGrid({ grid, disabled, onChange }: { grid: Grid; disabled: boolean; onChange: (g: Grid) => void }) {
  const drag = useRef<{ from: { d: number; h: number }; value: boolean; base: Grid } | null>(null);
  useEffect(() => {
    const end = () => (drag.current = null);
    window.addEventListener('mouseup', end);
    return () => window.removeEventListener('mouseup', end);
  }, []);
  return (
    <div className={`week-grid${disabled ? ' is-locked' : ''}`} role="grid" aria-label="Weekly hours" data-testid="week-grid" onMouseLeave={() => undefined}>
      <div className="wg-corner" />
      {Array.from({ length: 24 }, (_, h) => (
        <div key={h} className="wg-hour">
          {h % 3 === 0 ? String(h).padStart(2, '0') : ''}
        </div>
      ))}
      {DAYS.map((day, d) => (
        <div key={day} className="wg-row" role="row">
          <div className="wg-day">{DAY_LABELS[day]}</div>
          {grid[d]!.map((on, h) => (
            <button
              key={h}
              type="button"
              role="gridcell"
              className={`wg-cell${on ? ' on' : ''}`}
              aria-pressed={on}
              aria-label={`${DAY_LABELS[day]} ${String(h).padStart(2, '0')}:00`}
              data-testid="grid-cell"
              data-day={day}
              data-hour={h}
              disabled={disabled}
              onMouseDown={(e) => {
                e.preventDefault();
                drag.current = { from: { d, h }, value: !on, base: grid };
                onChange(paintRect(grid, { d, h }, { d, h }, !on));
              }}
              onMouseEnter={() => {
                const g = drag.current;
                if (g) onChange(paintRect(g.base, g.from, { d, h }, g.value));
              }}
              onKeyDown={(e) => {
                if (e.key === ' ' || e.key === 'Enter') {
                  e.preventDefault();
                  onChange(paintRect(grid, { d, h }, { d, h }, !on));
                }
              }}
            />
          ))}
        </div>
      ))}
    </div>
  );
}

function ExclusiveApps({ apps, disabled, onChange }: { apps: string[]; disabled: boolean; onChange: (apps: string[]) => void }) {
  const [text, setText] = useState('');
  const [running, setRunning] = useState<Array<{ name: string; count: number }> | null>(null);
  const [filter, setFilter] = useState('');
  const add = (name: string) => {
    const n = name.trim();
    if (!n || apps.some((a) => a.toLowerCase() === n.toLowerCase())) return;
    onChange([...apps, n]);
    setText('');
  };
  return (
    <div className="sched-apps">
      <span className="sched-label">Pause while these apps run</span>
      <ul className="app-list" data-testid="exclusive-apps">
        {apps.length === 0 ? <li className="muted small">None yet.</li> : null}
        {apps.map((a) => (
          <li key={a} className="app-chip">
            <span>{a}</span>
            {disabled ? null : (
              <button type="button" className="button button-small" aria-label={`Remove ${a}`} onClick={() => onChange(apps.filter((x) => x !== a))}>
                ×
              </button>
            )}
          </li>
        ))}
      </ul>
      {disabled ? null : (
        <div className="sched-row">
          <input
            type="text"
            placeholder="e.g. cs2.exe"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), add(text))}
            data-testid="app-input"
          />
          <button type="button" className="button" onClick={() => add(text)} disabled={!text.trim()}>
            Add
          </button>
          <button
            type="button"
            className="button"
            data-testid="app-pick"
            onClick={() =>
              void client()
                .call('system.processes')
                .then((r) => setRunning(r.processes), () => setRunning([]))
            }
          >
            Pick a running app…
          </button>
        </div>
      )}
      {running && !disabled ? (
        <div className="app-picker" data-testid="app-picker">
          <input type="search" placeholder="Filter" value={filter} onChange={(e) => setFilter(e.target.value)} />
          <ul>
            {running
              .filter((p) => p.name.toLowerCase().includes(filter.toLowerCase()))
              .slice(0, 200)
              .map((p) => (
                <li key={p.name}>
                  <button type="button" className="link-button" onClick={() => add(p.name)}>
                    {p.name}
                    {p.count > 1 ? <span className="muted small"> ×{p.count}</span> : null}
                  </button>
                </li>
              ))}
          </ul>
          <button type="button" className="button button-small" onClick={() => setRunning(null)}>
            Close
          </button>
        </div>
      ) : null}
    </div>
  );
}
