/** What an agent is made with: its data folder, its log, and which optional parts it runs. */
import type { Logger } from '../log.js';
import type { IdleSource } from '../schedule/sources/idle.js';

export interface AgentOptions {
  /** The data folder (created if missing). */
  home: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Telemetry sampling period; about once a second by default. */
  telemetryIntervalMs?: number;
  /** Input idle time (the desktop app passes Electron's powerMonitor); default: logind on Linux, else none. */
  idleSource?: IdleSource | null;
  /** The admin policy file; default: OFFSHIFT_POLICY_FILE or the OS path. */
  policyFile?: string;
  /** The desktop app's hook for `desktop.rememberPassword` (absent headless: the command says so). */
  desktop?: { rememberPassword(password: string): void };
  /**
   * The marketplace: connect to the market in the settings, or start the demo network when none
   * is set. Off unless asked for (the CLI's `agent` and the desktop app ask; tests choose).
   */
  market?: { enabled: boolean; passwordFile?: string; demo?: boolean; backoff?: { minMs: number; maxMs: number } };
}
