/** The Schedule page's snooze section: whether work is paused, and buttons to pause for an hour, until tomorrow morning, or resume. */
import type { ScheduleSettings } from '../../../runtime/schedule/schema.js';
import type { SnoozeInput } from './useSchedule.js';

function tomorrowMorning(now = new Date()): Date {
  const d = new Date(now);
  d.setDate(d.getDate() + 1);
  d.setHours(8, 0, 0, 0);
  return d;
}

interface SnoozeProps {
  /** The effective settings (the snooze as the agent holds it). */
  eff: ScheduleSettings;
  busy: boolean;
  locked: boolean;
  onSnooze: (input: SnoozeInput) => void;
}

export function SnoozeSection({ eff, busy, locked, onSnooze }: SnoozeProps) {
  const snoozed = eff.pausedUntilResumed || (eff.snoozeUntil !== null && new Date(eff.snoozeUntil).getTime() > Date.now());
  return (
    <section className="card sched-section">
      <h3>Snooze</h3>
      <p className="muted small" data-testid="snooze-status">
        {eff.pausedUntilResumed ? 'Paused until you resume.' : snoozed ? `Paused until ${new Date(eff.snoozeUntil!).toLocaleString()}.` : 'Not snoozed.'}
      </p>
      <div className="sched-row">
        <button type="button" className="button" disabled={busy || locked} onClick={() => onSnooze({ forMinutes: 60 })} data-testid="snooze-hour">
          Pause for 1 hour
        </button>
        <button type="button" className="button" disabled={busy || locked} onClick={() => onSnooze({ until: tomorrowMorning().toISOString() })} data-testid="snooze-morning">
          Until tomorrow 08:00
        </button>
        <button type="button" className="button" disabled={busy || !snoozed} onClick={() => onSnooze('resume')} data-testid="snooze-resume">
          Resume
        </button>
      </div>
    </section>
  );
}
