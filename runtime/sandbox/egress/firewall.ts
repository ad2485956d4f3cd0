/**
 * The firewall rule that makes the egress network safe: from the job bridge, the host accepts
 * only the proxy's port on the gateway address and drops everything else (every other host
 * service, on every host address); forwarding from the bridge (to other containers, the LAN)
 * is dropped too. Needs CAP_NET_ADMIN (root has it; the system service grants it to its own user)
 * and iptables; when the agent has neither, networked jobs are refused.
 *
 * iptables' nftables backend (the default on current distributions) needs CAP_NET_ADMIN only;
 * the legacy backend also opens a raw socket (CAP_NET_RAW) and takes /run/xtables.lock, the lock
 * it shares with dockerd (docs/service.md: what the unit grants for it).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { CAP_NET_ADMIN, hasEffectiveCapability } from './capabilities.js';

const run = promisify(execFile);

/** Runs iptables; null when it succeeded, else what it printed (or why it could not start). */
async function iptablesError(bin: 'iptables' | 'ip6tables', args: string[]): Promise<string | null> {
  try {
    await run(bin, ['-w', '5', ...args], { timeout: 10_000 });
    return null;
  } catch (error) {
    const e = error as { code?: unknown; stderr?: string; message?: string };
    if (e.code === 'ENOENT') return `${bin} is not installed`;
    return (e.stderr ?? '').trim().split('\n')[0] || (e.message ?? 'failed');
  }
}

async function iptables(bin: 'iptables' | 'ip6tables', args: string[]): Promise<boolean> {
  return (await iptablesError(bin, args)) === null;
}

/** Whether this process may change the firewall: uid 0, or CAP_NET_ADMIN in its effective set. */
export function hasNetAdmin(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    return hasEffectiveCapability(fs.readFileSync('/proc/self/status', 'utf8'), CAP_NET_ADMIN);
  } catch {
    return false;
  }
}

/** Null when the agent can install the rule, else why it cannot. */
export async function firewallUnavailable(): Promise<string | null> {
  if (process.platform !== 'linux') return 'the egress firewall rule is only implemented on Linux';
  if (!hasNetAdmin()) {
    return 'the agent has neither root nor CAP_NET_ADMIN, so it cannot install the firewall rule that keeps networked jobs away from this machine\'s services (run it as the system service, `sudo offshift service install`, or as root; or use network "none")';
  }
  const why = await iptablesError('iptables', ['-L', 'INPUT', '-n']);
  if (why) return `iptables is not usable (${why}): install it (apt-get install iptables); with its legacy backend the agent also needs CAP_NET_RAW and /run/xtables.lock (docs/service.md)`;
  return null;
}

export interface FirewallRule {
  bridge: string;
  gateway: string;
  proxyPort: number;
  chain: string;
}

/** Installs (or refreshes) the rule. Idempotent. Throws when the rule could not be verified. */
export async function installFirewall(rule: FirewallRule): Promise<void> {
  const { bridge, gateway, proxyPort, chain } = rule;
  await iptables('iptables', ['-N', chain]); // exists already: fine
  await iptables('iptables', ['-F', chain]);
  const steps: string[][] = [
    ['-A', chain, '-p', 'tcp', '-d', gateway, '--dport', String(proxyPort), '-j', 'ACCEPT'],
    ['-A', chain, '-j', 'DROP'],
  ];
  for (const s of steps) if (!(await iptables('iptables', s))) throw new Error(`iptables ${s.join(' ')} failed`);
  if (!(await iptables('iptables', ['-C', 'INPUT', '-i', bridge, '-j', chain]))) {
    if (!(await iptables('iptables', ['-I', 'INPUT', '1', '-i', bridge, '-j', chain]))) throw new Error('cannot insert the INPUT rule');
  }
  // Forwarding from the job bridge: nowhere (Docker's own rules for an internal network agree).
  await iptables('iptables', ['-N', 'DOCKER-USER']);
  if (!(await iptables('iptables', ['-C', 'DOCKER-USER', '-i', bridge, '-j', 'DROP']))) {
    if (!(await iptables('iptables', ['-I', 'DOCKER-USER', '1', '-i', bridge, '-j', 'DROP']))) throw new Error('cannot insert the DOCKER-USER rule');
  }
  // IPv6 is disabled inside job containers; where ip6tables exists, drop it here as well.
  if (!(await iptables('ip6tables', ['-C', 'INPUT', '-i', bridge, '-j', 'DROP']))) await iptables('ip6tables', ['-I', 'INPUT', '1', '-i', bridge, '-j', 'DROP']);
  if (!(await iptables('iptables', ['-C', 'INPUT', '-i', bridge, '-j', chain]))) throw new Error('the INPUT rule is not in place');
}

export async function removeFirewall(rule: Pick<FirewallRule, 'bridge' | 'chain'>): Promise<void> {
  const { bridge, chain } = rule;
  while (await iptables('iptables', ['-D', 'INPUT', '-i', bridge, '-j', chain]));
  while (await iptables('iptables', ['-D', 'DOCKER-USER', '-i', bridge, '-j', 'DROP']));
  while (await iptables('ip6tables', ['-D', 'INPUT', '-i', bridge, '-j', 'DROP']));
  await iptables('iptables', ['-F', chain]);
  await iptables('iptables', ['-X', chain]);
}
