/** The Schedule page's list of apps that pause work while they run: added by name or picked from the running processes. */
import { useState } from 'react';
import { client } from '../api/agent-call.js';

type RunningApp = { name: string; count: number };

export function ExclusiveApps({ apps, disabled, onChange }: { apps: string[]; disabled: boolean; onChange: (apps: string[]) => void }) {
  const [text, setText] = useState('');
  const [running, setRunning] = useState<RunningApp[] | null>(null);
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
      {running && !disabled ? <AppPicker running={running} filter={filter} onFilter={setFilter} onPick={add} onClose={() => setRunning(null)} /> : null}
    </div>
  );
}

/** The running processes, filtered by name; a click adds one. */
function AppPicker({ running, filter, onFilter, onPick, onClose }: { running: RunningApp[]; filter: string; onFilter: (f: string) => void; onPick: (name: string) => void; onClose: () => void }) {
  return (
    <div className="app-picker" data-testid="app-picker">
      <input type="search" placeholder="Filter" value={filter} onChange={(e) => onFilter(e.target.value)} />
      <ul>
        {running
          .filter((p) => p.name.toLowerCase().includes(filter.toLowerCase()))
          .slice(0, 200)
          .map((p) => (
            <li key={p.name}>
              <button type="button" className="link-button" onClick={() => onPick(p.name)}>
                {p.name}
                {p.count > 1 ? <span className="muted small"> ×{p.count}</span> : null}
              </button>
            </li>
          ))}
      </ul>
      <button type="button" className="button button-small" onClick={onClose}>
        Close
      </button>
    </div>
  );
}
