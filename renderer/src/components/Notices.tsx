/** The agent's `notice` events, as dismissible toasts. */
import { useDashboard } from '../store/dashboard-store.js';

export function Notices() {
  const notices = useDashboard((s) => s.notices);
  const dismiss = useDashboard((s) => s.dismissNotice);
  if (notices.length === 0) return null;
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.level}`} role={n.level === 'error' ? 'alert' : 'status'}>
          <div className="notice-text">
            <strong>{n.title}</strong>
            <span>{n.message}</span>
          </div>
          <button type="button" className="notice-close" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
