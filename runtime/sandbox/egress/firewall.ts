/**
 * The firewall rule that makes the egress network safe: from the job bridge, the host accepts
 * only the proxy's port on the gateway address and drops everything else (every other host
 * service, on every host address); forwarding from the bridge (to other containers, the LAN)
 * is dropped too. Needs root and iptables; when the agent has neither, networked jobs are refused.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function iptables(bin: 'iptables' | 'ip6tables', args: string[]): Promise<boolean> {
  try {
    await run(bin, ['-w', '5', ...args], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Null when the agent can install the rule, else why it cannot. */
export async function firewallUnavailable(): Promise<string | null> {
  if (process.platform !== 'linux') return 'the egress firewall rule is only implemented on Linux';
  if (process.getuid?.() !== 0) return 'the agent does not run as root, so it cannot install the firewall rule that keeps networked jobs away from this machine\'s services (run the agent as root, or use network "none")';
  if (!(await iptables('iptables', ['-L', 'INPUT', '-n']))) return 'iptables is not installed or not usable (apt-get install iptables)';
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
