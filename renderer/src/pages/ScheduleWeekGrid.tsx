/** The Schedule page's weekly hours: a 7 × 24 grid painted on or off with the mouse (or the keyboard), and its section. */
import { useEffect, useRef } from 'react';
import type { ScheduleWindow } from '../../../runtime/schedule/schema.js';
import { DAYS } from '../../../runtime/schedule/schema.js';
import { LockNote } from '../components/LockNote.js';
import { DAY_LABELS, paintRect, type Grid } from '../lib/schedule-grid.js';

interface WeeklyHoursProps {
  grid: Grid;
  /** The zone the agent reads the grid in, and whether it is this computer's (no zone set). */
  timezone: string;
  localZone: boolean;
  locked: boolean;
  /** The grid's windows, or null when no hour is painted. */
  windows: ScheduleWindow[] | null;
  onChange: (g: Grid) => void;
}

export function WeeklyHoursSection({ grid, timezone, localZone, locked, windows, onChange }: WeeklyHoursProps) {
  return (
    <section className="card sched-section">
      <h3>Weekly hours</h3>
      <p className="muted small">
        Drag to paint hours on or off. Times are in {timezone}
        {localZone ? " (this computer's zone)" : ''}. A fully painted week means any time.
      </p>
      <WeekGrid grid={grid} disabled={locked} onChange={onChange} />
      {locked ? <LockNote /> : null}
      {windows === null ? <p className="status-fail small">No hours painted: paint at least one, or choose “Never”.</p> : null}
    </section>
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
