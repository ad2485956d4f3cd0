/**
 * The firewall rule that makes the egress network safe: from the job bridge, the host accepts
 * only the proxy's port on the gateway address and drops everything else (every other host
 * service, on every host address); forwarding from the bridge (to other containers, the LAN)
 * is dropped too. Needs CAP_NET_ADMIN (root has it; the system service grants it to its own user)
 * or the Docker engine (below), and iptables; when neither works, networked jobs are refused.
 *
 * iptables' nftables backend (the default on current distributions) needs CAP_NET_ADMIN only;
 * the legacy backend also opens a raw socket (CAP_NET_RAW) and takes /run/xtables.lock, the lock
 * it shares with dockerd (docs/service.md: what the unit grants for it).
 *
 * Without the capability (the desktop app: the logged-in user, in the docker group), the same
 * commands run in a short-lived container through the Docker engine, which holds the capability
 * for its group (iptables-engine.ts). Which rules are installed is decided here only; an
 * IptablesRunner (iptables-runner.ts) says where the commands run.
 */
import { connectDocker, type Engine } from '../../engine/index.js';
import { CAP_NET_ADMIN, processHasCapability } from '../capabilities.js';
import { engineIptables } from './iptables-engine.js';
import { localIptables, type Iptables, type IptablesRunner } from './iptables-runner.js';

const ok = async (iptables: Iptables, bin: 'iptables' | 'ip6tables', args: string[]): Promise<boolean> => (await iptables(bin, args)) === null;

export interface FirewallOptions {
  /** The engine that runs iptables when this process lacks the capability (default: connectDocker()). */
  docker?: Engine;
}

let defaultDocker: Engine | null = null;

/** Here with root or CAP_NET_ADMIN (unchanged for root and the service), else through the engine. */
export function iptablesRunner(options: FirewallOptions = {}): IptablesRunner {
  if (hasNetAdmin()) return localIptables;
  return engineIptables(options.docker ?? (defaultDocker ??= connectDocker()));
}

const NO_CAPABILITY = 'the agent has neither root nor CAP_NET_ADMIN';

/** Runs `work` with the chosen runner; an engine that cannot run iptables at all is said in one error. */
async function withIptables<T>(options: FirewallOptions, work: (iptables: Iptables) => Promise<T>): Promise<T> {
  const runner = iptablesRunner(options);
  if (runner === localIptables) return runner.session(work);
  let started = false;
  try {
    return await runner.session((iptables) => {
      started = true;
      return work(iptables);
    });
  } catch (error) {
    if (started) throw error;
    throw new Error(`iptables could not be run: ${NO_CAPABILITY}, and running it ${runner.where} failed (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
}

/** Whether this process may change the firewall: uid 0, or CAP_NET_ADMIN in its effective set. */
export function hasNetAdmin(): boolean {
  return process.getuid?.() === 0 || processHasCapability(CAP_NET_ADMIN);
}

/** Null when the agent can install the rule (here, or through the engine), else why it cannot. */
export async function firewallUnavailable(options: FirewallOptions = {}): Promise<string | null> {
  if (process.platform !== 'linux') return 'the egress firewall rule is only implemented on Linux';
  const local = hasNetAdmin();
  let why: string | null;
  try {
    why = await withIptables(options, (iptables) => iptables('iptables', ['-L', 'INPUT', '-n']));
  } catch (error) {
    return `${error instanceof Error ? error.message : String(error)}, so it cannot install the firewall rule that keeps networked jobs away from this machine's services (let this user use Docker (the docker group), run the agent as the system service, \`sudo offshift service install\`, or as root; or use network "none")`;
  }
  if (why && local) return `iptables is not usable (${why}): install it (apt-get install iptables); with its legacy backend the agent also needs CAP_NET_RAW and /run/xtables.lock (docs/service.md)`;
  if (why) return `${NO_CAPABILITY}, and iptables run in a container through the Docker engine is not usable (${why}): check that iptables works as root on this machine, or run the agent as the system service (\`sudo offshift service install\`); or use network "none"`;
  return null;
}

export interface FirewallRule {
  bridge: string;
  gateway: string;
  proxyPort: number;
  chain: string;
}

/** Installs (or refreshes) the rule. Idempotent. Throws when the rule could not be verified. */
export async function installFirewall(rule: FirewallRule, options: FirewallOptions = {}): Promise<void> {
  await withIptables(options, (iptables) => install(iptables, rule));
}

async function install(iptables: Iptables, rule: FirewallRule): Promise<void> {
  const { bridge, gateway, proxyPort, chain } = rule;
  await ok(iptables, 'iptables', ['-N', chain]); // exists already: fine
  await ok(iptables, 'iptables', ['-F', chain]);
  const steps: string[][] = [
    ['-A', chain, '-p', 'tcp', '-d', gateway, '--dport', String(proxyPort), '-j', 'ACCEPT'],
    ['-A', chain, '-j', 'DROP'],
  ];
  for (const s of steps) {
    const why = await iptables('iptables', s);
    if (why !== null) throw new Error(`iptables ${s.join(' ')} failed (${why})`);
  }
  if (!(await ok(iptables, 'iptables', ['-C', 'INPUT', '-i', bridge, '-j', chain]))) {
    if (!(await ok(iptables, 'iptables', ['-I', 'INPUT', '1', '-i', bridge, '-j', chain]))) throw new Error('cannot insert the INPUT rule');
  }
  // Forwarding from the job bridge: nowhere (Docker's own rules for an internal network agree).
  await ok(iptables, 'iptables', ['-N', 'DOCKER-USER']);
  if (!(await ok(iptables, 'iptables', ['-C', 'DOCKER-USER', '-i', bridge, '-j', 'DROP']))) {
    if (!(await ok(iptables, 'iptables', ['-I', 'DOCKER-USER', '1', '-i', bridge, '-j', 'DROP']))) throw new Error('cannot insert the DOCKER-USER rule');
  }
  // IPv6 is disabled inside job containers; where ip6tables exists, drop it here as well.
  if (!(await ok(iptables, 'ip6tables', ['-C', 'INPUT', '-i', bridge, '-j', 'DROP']))) await ok(iptables, 'ip6tables', ['-I', 'INPUT', '1', '-i', bridge, '-j', 'DROP']);
  if (!(await ok(iptables, 'iptables', ['-C', 'INPUT', '-i', bridge, '-j', chain]))) throw new Error('the INPUT rule is not in place');
}

/** Removes the rule (every copy of each jump) and its chain; what is not there is skipped. */
export async function removeFirewall(rule: Pick<FirewallRule, 'bridge' | 'chain'>, options: FirewallOptions = {}): Promise<void> {
  const { bridge, chain } = rule;
  await withIptables(options, async (iptables) => {
    // Bounded: a rule that cannot be deleted must not loop forever.
    const deleteAll = async (bin: 'iptables' | 'ip6tables', args: string[]) => {
      for (let i = 0; i < 64 && (await ok(iptables, bin, args)); i++);
    };
    await deleteAll('iptables', ['-D', 'INPUT', '-i', bridge, '-j', chain]);
    await deleteAll('iptables', ['-D', 'DOCKER-USER', '-i', bridge, '-j', 'DROP']);
    await deleteAll('ip6tables', ['-D', 'INPUT', '-i', bridge, '-j', 'DROP']);
    await ok(iptables, 'iptables', ['-F', chain]);
    await ok(iptables, 'iptables', ['-X', chain]);
  });
}
