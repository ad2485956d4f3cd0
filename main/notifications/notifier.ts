/**
 * Shows what the policy (policy.ts) decides, through Electron's Notification; a click opens the
 * window on the right page. Thin: every decision is in the pure policy.
 */
import { Notification } from 'electron';
import type { NotificationSettings } from '../../runtime/desktop/schema.js';
import { decideNotification, emptyHistory, type NotifyEvent } from './policy.js';

export interface Notifier {
  handle(event: NotifyEvent): void;
  setSettings(settings: NotificationSettings): void;
}

export function createNotifier(options: {
  settings: NotificationSettings;
  openPage: (page: string | null) => void;
  icon?: string;
  now?: () => number;
}): Notifier {
  let settings = options.settings;
  let history = emptyHistory();
  const supported = Notification.isSupported();
  return {
    handle(event) {
      const decision = decideNotification(event, settings, history, (options.now ?? Date.now)());
      history = decision.history;
      if (!decision.show || !supported) return;
      const n = new Notification({ title: decision.show.title, body: decision.show.body, icon: options.icon, silent: decision.show.kind !== 'failures' });
      const page = decision.show.page;
      n.on('click', () => options.openPage(page));
      n.show();
    },
    setSettings(next) {
      settings = next;
    },
  };
}
