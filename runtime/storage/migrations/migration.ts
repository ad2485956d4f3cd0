/** One step of the database's schema: numbered 1, 2, 3… and run once, in its own transaction. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}
