/**
 * Which Linux capabilities a process holds in effect, read from its /proc/<pid>/status
 * ("CapEff:\t000001ffffffffff", a hex bit mask; bit N is capability N, see capabilities(7)).
 * The egress firewall needs CAP_NET_ADMIN (which the system service grants to a non-root user);
 * mounting a job's /output on the host needs CAP_SYS_ADMIN.
 */
import fs from 'node:fs';

/** capabilities(7): CAP_NET_ADMIN is 12, CAP_NET_RAW is 13, CAP_SYS_ADMIN is 21. */
export const CAP_NET_ADMIN = 12;
export const CAP_NET_RAW = 13;
export const CAP_SYS_ADMIN = 21;

/** The effective set from a status file's text, or null when it has no well-formed CapEff line. */
export function effectiveCapabilities(status: string): bigint | null {
  const m = /^CapEff:[ \t]*([0-9a-fA-F]{1,16})[ \t]*$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : null;
}

/** Whether the status file's effective set holds capability `cap` (false when it cannot be read). */
export function hasEffectiveCapability(status: string, cap: number): boolean {
  const set = effectiveCapabilities(status);
  return set !== null && ((set >> BigInt(cap)) & 1n) === 1n;
}

/** Whether this process holds capability `cap` in effect (Linux; false where /proc cannot tell). */
export function processHasCapability(cap: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return hasEffectiveCapability(fs.readFileSync('/proc/self/status', 'utf8'), cap);
  } catch {
    return false;
  }
}
