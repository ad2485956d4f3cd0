import { Icon } from './icons.js';

const ADMIN = 'Set by your administrator';

/**
 * Beside a setting the admin policy locks. `note` is the pages' form (`lock-note`), `setting` the
 * Settings page's (`set-lock`, with the reason as a tooltip).
 */
export function LockNote({ text = ADMIN, kind = 'note' }: { text?: string; kind?: 'note' | 'setting' }) {
  return kind === 'setting' ? (
    <span className="set-lock" title={ADMIN} data-testid="set-locked">
      <Icon name="key" size={14} /> {text}
    </span>
  ) : (
    <span className="lock-note small" data-testid="lock-note">
      <Icon name="key" size={14} /> {text}
    </span>
  );
}
