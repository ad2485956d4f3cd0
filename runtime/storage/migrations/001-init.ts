import type { Migration } from './migration.js';

export const init001: Migration = {
  version: 1,
  name: 'init',
  sql: `
    CREATE TABLE kv (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    ) STRICT;
  `,
};
