/**
 * The last resort: an uncaught exception or unhandled rejection in the agent process is logged
 * (no secrets), recorded in the data folder, and the process exits non-zero so its supervisor
 * (the desktop app, systemd's Restart=on-failure) starts a fresh one. Limping on in an unknown
 * state is never an option. The next start reports the record (the log, agent.info and the
 * system check) and files it away.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../storage/atomic-file.js';

export const CRASH_FILE = 'crash.json';
/** Where a reported record goes, so that it is reported once. */
export const REPORTED_CRASH_FILE = 'crash.reported.json';
/** EX_SOFTWARE: an internal error. */
export const CRASH_EXIT_CODE = 70;

export const crashRecordSchema = z.object({
  at: z.string(),
  kind: z.enum(['uncaughtException', 'unhandledRejection']),
  name: z.string(),
  message: z.string(),
  stack: z.string(),
  pid: z.number().int(),
  version: z.string(),
});
export type CrashRecord = z.infer<typeof crashRecordSchema>;

const SECRETS: RegExp[] = [
  /\b(?:0x)?[0-9a-fA-F]{64}\b/g, // the API token, private keys
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
  /\b(?:[a-z]{3,8} ){11,23}[a-z]{3,8}\b/g, // a 12–24 word mnemonic
];

/** Pure: masks what looks like a token, a key or a mnemonic, and caps the length. */
export function scrubSecrets(text: string, max = 4000): string {
  let out = text.length > max * 2 ? text.slice(0, max * 2) : text;
  for (const re of SECRETS) out = out.replace(re, '[redacted]');
  return out.length > max ? out.slice(0, max) + '…' : out;
}

/** Pure: the record of one crash. */
export function crashRecord(kind: CrashRecord['kind'], error: unknown, at: Date, pid: number, version: string): CrashRecord {
  const e = error instanceof Error ? error : null;
  return {
    at: at.toISOString(),
    kind,
    name: scrubSecrets(e?.name ?? typeof error, 100),
    message: scrubSecrets(e ? e.message : safeString(error), 1000),
    stack: scrubSecrets(e?.stack ?? '', 4000),
    pid,
    version,
  };
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export interface CrashHandlerOptions {
  home: string;
  log: Logger;
  version: string;
  exit?: (code: number) => void;
  proc?: Pick<NodeJS.Process, 'on' | 'off' | 'pid'>;
}

/** Installs the last-resort handlers; returns a function that removes them (tests). */
export function installCrashHandler(options: CrashHandlerOptions): () => void {
  const proc = options.proc ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let crashing = false;
  const handle = (kind: CrashRecord['kind']) => (error: unknown) => {
    if (crashing) return;
    crashing = true;
    const record = crashRecord(kind, error, new Date(), proc.pid, options.version);
    try {
      options.log.error('the agent hit an error it cannot recover from and exits to be restarted', { kind, error: record.name, detail: record.message });
    } catch {
      // Logging must not stop the record and the exit.
    }
    try {
      writeFileAtomic(path.join(options.home, CRASH_FILE), JSON.stringify(record, null, 2) + '\n', 0o600);
    } catch {
      // A full disk: the log line above is all there is.
    }
    exit(CRASH_EXIT_CODE);
  };
  const onException = handle('uncaughtException');
  const onRejection = handle('unhandledRejection');
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
}

/**
 * At start: the record a crash left, if any. Logged, moved aside (reported once) and returned
 * for agent.info and the system check. A record that cannot be read is reported as such.
 */
export function takeCrashRecord(home: string, log: Logger): CrashRecord | null {
  const file = path.join(home, CRASH_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  let record: CrashRecord;
  try {
    record = crashRecordSchema.parse(JSON.parse(text));
  } catch {
    record = { at: new Date().toISOString(), kind: 'uncaughtException', name: 'Error', message: 'The crash record could not be read.', stack: '', pid: 0, version: '' };
  }
  log.warn('the agent stopped on an unexpected error last time and was restarted', { crashedAt: record.at, kind: record.kind, error: record.name, detail: record.message, record: path.join(home, REPORTED_CRASH_FILE) });
  try {
    fs.renameSync(file, path.join(home, REPORTED_CRASH_FILE));
  } catch {
    // Read-only data folder: it will be reported again next time.
  }
  return record;
}
