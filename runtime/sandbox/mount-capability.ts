/**
 * Whether the agent may mount a filesystem itself: the effective CAP_SYS_ADMIN capability of
 * this process, read from /proc/self/status (root usually has it; the system service, which
 * runs as its own user with CAP_NET_ADMIN only, and the desktop app do not).
 */
import fs from 'node:fs';

const CAP_SYS_ADMIN = 21;

/** Whether the CapEff line of /proc/<pid>/status holds CAP_SYS_ADMIN. Pure. */
export function hasSysAdmin(procStatus: string): boolean {
  const m = /^CapEff:\s*([0-9a-fA-F]{1,16})\s*$/m.exec(procStatus);
  if (!m) return false;
  return ((BigInt(`0x${m[1]}`) >> BigInt(CAP_SYS_ADMIN)) & 1n) === 1n;
}

/** Whether this process may mount a tmpfs itself (Linux, effective CAP_SYS_ADMIN). */
export function canMountOutput(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return hasSysAdmin(fs.readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return false;
  }
}
