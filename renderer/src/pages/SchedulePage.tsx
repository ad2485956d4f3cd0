/**
 * The Schedule page: when this machine may work. A weekly grid painted with the mouse, idle
 * minutes, exclusive apps (with a picker of running apps), foreign GPU use, heat, battery,
 * what happens when the owner returns, and snooze. Fields an administrator set are shown
 * locked. Saves only what changed (schedule.set); the agent refuses locked fields anyway.
 * The state and the API calls are in useSchedule.ts, the sections in Schedule*.tsx.
 */
import type { ScheduleSettings } from '../../../runtime/schedule/schema.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { windowsFromGrid } from '../lib/schedule-grid.js';
import { PolicyBanner, ScheduleToolbar } from './ScheduleHead.js';
import { AppsSection, AwaySection, HeatSection, ModeSection, ReturnSection } from './ScheduleSections.js';
import { SnoozeSection } from './ScheduleSnooze.js';
import { WeeklyHoursSection } from './ScheduleWeekGrid.js';
import { changedFields, useSchedule } from './useSchedule.js';
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

export function SchedulePage() {
  const { connected, view, draft, grid, error, saved, busy, apply, edit, paint, save, snooze } = useSchedule();

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
  const set = <K extends keyof ScheduleSettings>(key: K, value: ScheduleSettings[K]) => edit({ ...draft, [key]: value });
  const section = { draft, locked, set };

  return (
    <div className="page schedule-page">
      <ScheduleToolbar view={view} dirty={dirty} busy={busy} connected={connected} onRevert={() => apply(view)} onSave={() => void save(windows, patch)} />
      {error ? <ErrorBanner title="Could not save" text={error} testId="schedule-error" /> : null}
      {saved && !dirty ? (
        <p className="muted small" role="status" data-testid="schedule-saved">
          {saved}
        </p>
      ) : null}
      <PolicyBanner policy={view.policy} />

      <SnoozeSection eff={view.effective} busy={busy} locked={locked('snoozeUntil')} onSnooze={(input) => void snooze(input)} />
      <ModeSection {...section} />
      <WeeklyHoursSection grid={grid} timezone={view.timezone} localZone={view.effective.timezone === null} locked={locked('windows')} windows={windows} onChange={paint} />
      <AwaySection {...section} />
      <AppsSection {...section} />
      <HeatSection {...section} />
      <ReturnSection {...section} />
    </div>
  );
}
