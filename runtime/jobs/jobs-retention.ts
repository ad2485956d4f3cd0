// The retention rule wired to the agent's settings: the Retention over the finished jobs'
// folders, and the view jobs.retention answers with.
import type { Db } from '../storage/database.js';
import type { Logger } from '../log.js';
import type { LoadedPolicy } from '../policy/schema.js';
import type { SettingsStore } from '../settings/store.js';
import { Retention } from './retention.js';
import { defaultRetentionSettings, type RetentionView } from './retention-schema.js';
import { effectiveRetention, retentionValue } from './retention-settings.js';

export function createJobsRetention(o: {
  db: Db;
  home: string;
  log: Logger;
  settings: { store: SettingsStore; policy: () => LoadedPolicy } | undefined;
  intervalMs: number;
  inHand: (id: string) => boolean;
}): { retention: Retention; view: () => RetentionView } {
  const settings = o.settings;
  const retentionRule = () => (settings ? effectiveRetention(settings.store, settings.policy()) : null);
  const retention = new Retention({
    db: o.db,
    home: o.home,
    log: o.log,
    settings: () => {
      const e = retentionRule();
      return e ? retentionValue(e) : defaultRetentionSettings;
    },
    inHand: o.inHand,
  });
  const view = (): RetentionView => {
    const e = retentionRule();
    return {
      effective: e ? retentionValue(e) : defaultRetentionSettings,
      locked: e?.locked ?? [],
      user: settings?.store.section('retention').patch ?? {},
      usage: retention.usage(),
      lastRun: retention.lastRun,
      intervalMs: o.intervalMs,
    };
  };
  return { retention, view };
}
