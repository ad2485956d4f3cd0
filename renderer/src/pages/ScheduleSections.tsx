/** The Schedule page's settings sections: mode, idle, games and apps, heat and battery, and what happens when the owner returns. */
import type { ScheduleSettings } from '../../../runtime/schedule/schema.js';
import { LockNote } from '../components/LockNote.js';
import { ExclusiveApps } from './ScheduleExclusiveApps.js';
import { Field, NumberInput } from './ScheduleFields.js';

/** What each section edits: the draft, which paths the administrator locked, and a setter of one field. */
export interface SectionProps {
  draft: ScheduleSettings;
  locked: (path: string) => boolean;
  set: <K extends keyof ScheduleSettings>(key: K, value: ScheduleSettings[K]) => void;
}

export function ModeSection({ draft, locked, set }: SectionProps) {
  return (
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
  );
}

export function AwaySection({ draft, locked, set }: SectionProps) {
  return (
    <section className="card sched-section">
      <h3>Only when I’m away</h3>
      <Field label="Wait until the computer is idle" locked={locked('idle.required')}>
        <input type="checkbox" checked={draft.idle.required} disabled={locked('idle.required')} onChange={(e) => set('idle', { ...draft.idle, required: e.target.checked })} data-testid="idle-required" />
      </Field>
      <Field label="Idle for (minutes)" locked={locked('idle.minutes')}>
        <NumberInput value={draft.idle.minutes} min={0} max={1440} disabled={locked('idle.minutes') || !draft.idle.required} onChange={(v) => set('idle', { ...draft.idle, minutes: v })} testId="idle-minutes" />
      </Field>
    </section>
  );
}

export function AppsSection({ draft, locked, set }: SectionProps) {
  return (
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
  );
}

export function HeatSection({ draft, locked, set }: SectionProps) {
  return (
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
  );
}

export function ReturnSection({ draft, locked, set }: SectionProps) {
  return (
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
  );
}
