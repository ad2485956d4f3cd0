/**
 * The egress firewall for the desktop app's agent: a non-root user in the docker group with no
 * capability at all. Here such a process (setpriv: uid/gid 65534, the socket's group, no
 * capabilities, empty bounding set) checks, installs and removes the real rule through the
 * Docker engine (iptables-engine.ts: a container per operation running this host's iptables);
 * the test reads the host's rules as root (`iptables -S`) after each step: exactly the expected
 * rules, then none, and no container left. Without the docker group the check refuses, naming
 * both what is missing and what failed.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CAP_NET_ADMIN, CAP_NET_RAW, effectiveCapabilities } from '../../../runtime/sandbox/capabilities.js';
import { removeFirewall } from '../../../runtime/sandbox/egress/firewall.js';
import { engineIptables, FIREWALL_CONTAINER_LABEL } from '../../../runtime/sandbox/egress/iptables-engine.js';
import { connectDocker } from '../../../runtime/engine/index.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'firewall-child.ts');
const SOCKET = '/var/run/docker.sock';
const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

function skipReason(): string | null {
  if (process.platform !== 'linux') return 'Linux only';
  if (process.getuid?.() !== 0) return 'the test must run as root to start a process as another user (setpriv) and to read the rules';
  if (!has('setpriv', ['--version'])) return 'setpriv is missing (util-linux)';
  if (!has('iptables', ['-w', '5', '-L', 'INPUT', '-n'])) return 'iptables is missing or not usable here, even as root';
  if (!has('docker', ['info'])) return 'the Docker engine is not reachable';
  let st: fs.Stats;
  try {
    st = fs.statSync(SOCKET);
  } catch {
    return `${SOCKET} is not there (a remote DOCKER_HOST is not covered)`;
  }
  if ((st.mode & 0o060) !== 0o060) return `${SOCKET} is not readable and writable by its group: a docker-group user cannot use it`;
  return null;
}
const skip = skipReason();
if (skip) console.warn(`[firewall-engine] skipped: ${skip}`);
const ip6 = skip === null && has('ip6tables', ['-w', '5', '-L', 'INPUT', '-n']);
// The other backend, where this host has it too: the agent's PATH names it, as on a legacy host.
const LEGACY = '/usr/sbin/xtables-legacy-multi';
const legacy = skip === null && fs.existsSync(LEGACY) && has('iptables-legacy', ['-w', '5', '-L', 'INPUT', '-n']);
if (skip === null && !legacy) console.warn(`[firewall-engine] legacy-backend test skipped: no usable ${LEGACY} here`);

const bridge = `offeg${crypto.randomBytes(3).toString('hex')}`;
const chain = `OFFSHIFT-E${crypto.randomBytes(3).toString('hex').toUpperCase()}`;

/** The child's steps as uid 65534 with no capability, in the docker socket's group (or in none). */
function asDesktopUser(groups: 'docker' | 'none', steps: string, env: NodeJS.ProcessEnv = {}): unknown[] {
  const groupArgs = groups === 'docker' ? [`--groups=${fs.statSync(SOCKET).gid}`] : ['--clear-groups'];
  const r = spawnSync(
    'setpriv',
    ['--reuid=65534', '--regid=65534', ...groupArgs, '--inh-caps=-all', '--bounding-set=-all', process.execPath, '--import', 'tsx', CHILD, steps, bridge, chain],
    { encoding: 'utf8', timeout: 90_000, cwd: path.dirname(CHILD), env: { ...process.env, HOME: os.tmpdir(), ...env } },
  );
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as unknown[];
  } catch {
    throw new Error(`the unprivileged child printed no result (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
}

/** The host's rules (as root) that name this test's bridge or chain, sorted. */
function ours(bin: 'iptables' | 'ip6tables' | 'iptables-legacy'): string[] {
  const out = spawnSync(bin, ['-w', '5', '-S'], { encoding: 'utf8' }).stdout;
  return out
    .split('\n')
    .filter((l) => l.split(' ').some((w) => w === bridge || w === chain))
    .sort();
}

const firewallContainers = () => spawnSync('docker', ['ps', '-aq', '--filter', `label=${FIREWALL_CONTAINER_LABEL}`], { encoding: 'utf8' }).stdout.trim();

describe.skipIf(skip !== null)('the egress firewall through the Docker engine, for a docker-group user without capabilities', () => {
  afterAll(async () => {
    await removeFirewall({ bridge, chain }); // as root: whatever a failed run left
  });

  it('checks, installs (twice: idempotent) and removes exactly the rule, leaving no container', () => {
    expect(asDesktopUser('docker', 'check,install,install')).toEqual([{ uid: 65534, netAdmin: false, unavailable: null }, 'installed', 'installed']);
    expect(ours('iptables')).toEqual(
      [
        `-N ${chain}`,
        `-A INPUT -i ${bridge} -j ${chain}`,
        `-A ${chain} -d 10.251.0.1/32 -p tcp -m tcp --dport 3128 -j ACCEPT`,
        `-A ${chain} -j DROP`,
        `-A DOCKER-USER -i ${bridge} -j DROP`,
      ].sort(),
    );
    if (ip6) expect(ours('ip6tables')).toEqual([`-A INPUT -i ${bridge} -j DROP`]);
    expect(firewallContainers()).toBe('');

    expect(asDesktopUser('docker', 'remove')).toEqual(['removed']);
    expect(ours('iptables')).toEqual([]);
    if (ip6) expect(ours('ip6tables')).toEqual([]);
    expect(firewallContainers()).toBe('');
  }, 120_000);

  it.skipIf(!legacy)("with iptables' legacy backend (its binary first on PATH) the same rules go into the legacy tables, and away again", () => {
    const bin = makeTempDir('offshift-legacy-');
    try {
      fs.symlinkSync(LEGACY, path.join(bin, 'iptables'));
      fs.chmodSync(bin, 0o755);
      const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
      expect(asDesktopUser('docker', 'check,install', env)).toEqual([{ uid: 65534, netAdmin: false, unavailable: null }, 'installed']);
      expect(ours('iptables-legacy')).toEqual(
        [`-N ${chain}`, `-A INPUT -i ${bridge} -j ${chain}`, `-A ${chain} -d 10.251.0.1/32 -p tcp -m tcp --dport 3128 -j ACCEPT`, `-A ${chain} -j DROP`, `-A DOCKER-USER -i ${bridge} -j DROP`].sort(),
      );
      expect(ours('iptables')).toEqual([]); // not in the nftables ones
      expect(asDesktopUser('docker', 'remove', env)).toEqual(['removed']);
      expect(ours('iptables-legacy')).toEqual([]);
    } finally {
      spawnSync('sh', ['-c', `iptables-legacy -w 5 -D INPUT -i ${bridge} -j ${chain}; iptables-legacy -w 5 -D DOCKER-USER -i ${bridge} -j DROP; iptables-legacy -w 5 -F ${chain}; iptables-legacy -w 5 -X ${chain}; ip6tables-legacy -w 5 -D INPUT -i ${bridge} -j DROP`], { stdio: 'ignore' });
      fs.rmSync(bin, { recursive: true, force: true });
    }
  }, 120_000);

  it("the operation's container holds CAP_NET_ADMIN and CAP_NET_RAW in effect and nothing else, on a read-only root, and is gone after", async () => {
    const docker = connectDocker();
    const seen = await engineIptables(docker).session(async (iptables) => {
      expect(await iptables('iptables', ['-L', 'INPUT', '-n'])).toBeNull();
      // A failure comes back as iptables' own first line (not its "# Warning" about legacy tables).
      expect(await iptables('iptables', ['-C', 'INPUT', '-i', bridge, '-j', 'DROP'])).toMatch(/^iptables.*Bad rule/);
      const [listed] = await docker.listContainers({ filters: { label: [FIREWALL_CONTAINER_LABEL] } });
      const info = await docker.getContainer(listed!.Id).inspect();
      return { id: info.Id, pid: info.State.Pid, host: info.HostConfig, status: fs.readFileSync(`/proc/${info.State.Pid}/status`, 'utf8') };
    });
    expect(effectiveCapabilities(seen.status)).toBe((1n << BigInt(CAP_NET_ADMIN)) | (1n << BigInt(CAP_NET_RAW)));
    expect(seen.host).toMatchObject({ NetworkMode: 'host', ReadonlyRootfs: true, CapDrop: ['ALL'], CapAdd: ['NET_ADMIN', 'NET_RAW'], SecurityOpt: ['no-new-privileges'] });
    await expect(docker.getContainer(seen.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  }, 60_000);

  it('without the docker group either, the check refuses saying both what is missing and what failed, and nothing is installed', () => {
    const [check, install] = asDesktopUser('none', 'check,install') as [Record<string, unknown>, Record<string, unknown>];
    expect(check).toMatchObject({ uid: 65534, netAdmin: false });
    expect(check.unavailable).toMatch(/neither root nor CAP_NET_ADMIN, and running it in a container through the Docker engine failed \(Cannot reach the Docker engine/);
    expect(check.unavailable).toMatch(/network "none"/);
    expect(install.error).toMatch(/^iptables could not be run: the agent has neither root nor CAP_NET_ADMIN/);
    expect(ours('iptables')).toEqual([]);
  }, 60_000);
});
