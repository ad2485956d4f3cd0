/**
 * This machine's identity facts for the wallet: its machine id (hashed, never stored in clear)
 * and its host name. A data folder copied onto another machine carries the facts of the
 * machine that made its key, and so is told apart (identity-record.ts).
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { devOverridesAllowed } from '../system/dev-overrides.js';

export interface MachineFacts {
  /** HMAC of the OS machine id, 32 hex digits; null when the OS gives none (the copy check is then skipped, and said). */
  machineId: string | null;
  hostname: string;
  /** Where the id came from, for the log. */
  source: string;
}

/** A test's machine id: a file holding it, honoured only from a source checkout (dev-overrides.ts). */
export const MACHINE_ID_FILE_ENV = 'OFFSHIFT_MACHINE_ID_FILE';

// systemd's machine-id(5) asks that the id stay confidential and that applications use a
// derived, application-specific id: the record keeps only this HMAC.
export function appSpecificId(raw: string): string {
  return crypto.createHmac('sha256', raw.trim().toLowerCase()).update('offshift wallet identity').digest('hex').slice(0, 32);
}

function readFirstLine(file: string): string | null {
  try {
    const text = fs.readFileSync(file, 'utf8').split(/\r?\n/)[0]!.trim();
    return text === '' ? null : text;
  } catch {
    return null;
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 10_000, windowsHide: true, env }, (error, stdout) => resolve(error ? null : String(stdout)));
  });
}

// Not systeminformation's uuid(): on macOS it runs system_profiler (seconds), and on Linux it
// prefers dbus's copy over /etc/machine-id, which systemd regenerates on a prepared image.
async function rawMachineId(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Promise<{ id: string | null; source: string }> {
  const file = env[MACHINE_ID_FILE_ENV];
  if (file && devOverridesAllowed(env)) return { id: readFirstLine(file), source: file };
  if (platform === 'darwin') {
    const out = await run('ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice'], env);
    return { id: /"IOPlatformUUID"\s*=\s*"([^"]+)"/.exec(out ?? '')?.[1] ?? null, source: 'IOPlatformUUID' };
  }
  if (platform === 'win32') {
    const out = await run('reg', ['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid'], env);
    return { id: /MachineGuid\s+REG_SZ\s+(\S+)/i.exec(out ?? '')?.[1] ?? null, source: 'MachineGuid' };
  }
  for (const f of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    const id = readFirstLine(f);
    if (id) return { id, source: f };
  }
  return { id: null, source: 'none (no /etc/machine-id)' };
}

/** This machine's facts, read now. */
export async function readMachineFacts(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<MachineFacts> {
  const { id, source } = await rawMachineId(env, platform);
  return { machineId: id ? appSpecificId(id) : null, hostname: os.hostname(), source };
}
