/**
 * Whether the agent may mount a filesystem itself: the effective CAP_SYS_ADMIN capability of
 * this process (root usually has it; the system service, which runs as its own user with
 * CAP_NET_ADMIN only, and the desktop app do not).
 */
import { CAP_SYS_ADMIN, hasEffectiveCapability, processHasCapability } from './capabilities.js';

/** Whether the CapEff line of /proc/<pid>/status holds CAP_SYS_ADMIN. Pure. */
export function hasSysAdmin(procStatus: string): boolean {
  return hasEffectiveCapability(procStatus, CAP_SYS_ADMIN);
}

/** Whether this process may mount a tmpfs itself (Linux, effective CAP_SYS_ADMIN). */
export function canMountOutput(): boolean {
  return processHasCapability(CAP_SYS_ADMIN);
}
