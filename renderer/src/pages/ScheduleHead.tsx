/** The top of the Schedule page: the agent's decision with Revert and Save, and the administrator policy's banner. */
import type { ScheduleView } from '../../../runtime/schedule/schema.js';
import { Icon } from '../components/icons.js';

interface ToolbarProps {
  view: ScheduleView;
  dirty: boolean;
  busy: boolean;
  connected: boolean;
  onRevert: () => void;
  onSave: () => void;
}

export function ScheduleToolbar({ view, dirty, busy, connected, onRevert, onSave }: ToolbarProps) {
  return (
    <div className="toolbar">
      <p className="muted" data-testid="schedule-decision">
        {view.decision ? view.decision.detail : 'No decision yet.'}
        {view.notes.length > 0 ? ` · ${view.notes.join(' · ')}` : ''}
      </p>
      <div className="toolbar-actions">
        <button type="button" className="button" onClick={onRevert} disabled={!dirty || busy}>
          Revert
        </button>
        <button type="button" className="button button-primary" onClick={onSave} disabled={!dirty || busy || !connected} data-testid="schedule-save">
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </div>
  );
}

export function PolicyBanner({ policy }: { policy: ScheduleView['policy'] }) {
  if (policy.state === 'none') return null;
  return (
    <div className={`banner ${policy.state === 'invalid' ? 'banner-fail' : 'banner-warn'}`} data-testid="schedule-policy">
      <Icon name={policy.state === 'invalid' ? 'fail' : 'key'} />
      <div className="banner-text">
        <strong>{policy.state === 'invalid' ? 'The administrator policy is invalid' : 'Some settings are set by your administrator'}</strong>
        <span>{policy.message}</span>
      </div>
    </div>
  );
}
