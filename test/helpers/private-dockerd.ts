/**
 * A Docker engine of the test's own, to restart without touching the shared one (other tests
 * use it): its own socket, data root, exec root (and so its own managed containerd), pid file,
 * no bridge and no iptables rules, and a network namespace of its own (`unshare --net`): a
 * dockerd started with `--bridge=none` deletes the `docker0` it finds, which in the host's
 * namespace broke every `docker run` on the machine until Docker was restarted. Images are
 * copied in from the shared engine with `docker save | docker -H … load` (the API socket is a
 * file, reachable from any namespace). Needs root, dockerd and unshare.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { connectDocker } from '../../runtime/engine/index.js';
import { makeTempDir } from './temp-home.js';

export function privateDockerdSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'a private dockerd needs root';
  try {
    execFileSync('dockerd', ['--version'], { stdio: 'pipe' });
  } catch {
    return 'dockerd is not installed';
  }
  try {
    execFileSync('unshare', ['--net', 'true'], { stdio: 'pipe' });
  } catch {
    return 'unshare --net does not work here (util-linux, root): the private dockerd needs a network namespace of its own';
  }
  return null;
}

/**
 * The host's `docker0` bridge as `ip` reports it (index, MAC, addresses; not its up/down state),
 * or null when there is none. A test compares it before and after: a dockerd started with
 * `--bridge=none` in the host's network namespace deletes `docker0`, and every `docker run` on
 * the default network then fails until Docker is restarted.
 */
export function hostBridge(): string | null {
  try {
    const out = execFileSync('ip', ['-j', 'addr', 'show', 'dev', 'docker0'], { stdio: 'pipe', encoding: 'utf8' });
    const [link] = JSON.parse(out) as { ifname: string; ifindex: number; address?: string; addr_info?: { local: string; prefixlen: number }[] }[];
    if (!link) return null;
    return JSON.stringify({ name: link.ifname, index: link.ifindex, mac: link.address, addrs: (link.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`) });
  } catch {
    return null;
  }
}

class NamespaceError extends Error {}

/** A check that the daemon did get a namespace of its own (unshare is what gives it one). */
function assertOwnNetworkNamespace(pid: number | undefined): void {
  const ours = fs.readlinkSync('/proc/self/ns/net');
  let its: string;
  try {
    its = fs.readlinkSync(`/proc/${pid}/ns/net`);
  } catch (error) {
    throw new NamespaceError(`cannot read the private dockerd's network namespace: ${(error as Error).message}`);
  }
  if (its === ours) throw new NamespaceError(`the private dockerd runs in the host's network namespace (${ours}); it would delete docker0`);
}

export interface PrivateEngine {
  host: string;
  docker: Docker;
  /** Copies an image (by id) from the shared engine. */
  load(imageId: string): void;
  /** Stops the daemon (SIGTERM: it stops its containers, as a restart does) and starts it again. */
  restart(): Promise<void>;
  /** Resolves once the daemon has stopped. */
  stopDaemon(): Promise<void>;
  startDaemon(): Promise<void>;
  close(): Promise<void>;
}

export async function startPrivateDockerd(): Promise<PrivateEngine> {
  const dir = makeTempDir('ofs-dd-');
  const socket = path.join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const args = [
    '--host', host,
    '--data-root', path.join(dir, 'data'),
    '--exec-root', path.join(dir, 'exec'),
    '--pidfile', path.join(dir, 'docker.pid'),
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    '--userland-proxy=false',
    '--containerd-namespace', 'offshift-test',
    '--containerd-plugins-namespace', 'offshift-test-plugins',
    '--cgroup-parent', 'offshift-test-dockerd',
    '--shutdown-timeout', '5',
  ];
  const logFile = path.join(dir, 'dockerd.log');
  let child: ChildProcess | null = null;
  const docker = connectDocker({ DOCKER_HOST: host });

  async function startDaemon(): Promise<void> {
    const out = fs.openSync(logFile, 'a');
    // unshare execs dockerd (no fork): the child's pid is the daemon's, and signals reach it.
    // Its containerd and shims inherit the namespace; it dies with the last of them.
    child = spawn('unshare', ['--net', '--', 'dockerd', ...args], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const started = child;
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        await docker.ping();
        assertOwnNetworkNamespace(started.pid);
        return;
      } catch (error) {
        if (error instanceof NamespaceError) {
          await stopDaemon();
          throw error;
        }
        if (Date.now() > until || started.exitCode !== null) {
          throw new Error(`the private dockerd did not start: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`, { cause: error });
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async function stopDaemon(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (c.exitCode === null) c.kill('SIGKILL');
    child = null;
  }

  await startDaemon();
  return {
    host,
    docker,
    load(imageId) {
      const tar = path.join(dir, 'image.tar');
      execFileSync('docker', ['save', '-o', tar, imageId], { stdio: 'pipe' });
      execFileSync('docker', ['-H', host, 'load', '-i', tar], { stdio: 'pipe' });
      fs.rmSync(tar, { force: true });
    },
    async restart() {
      await stopDaemon();
      await startDaemon();
    },
    stopDaemon,
    startDaemon,
    async close() {
      try {
        const containers = await docker.listContainers({ all: true });
        await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
      } catch {}
      await stopDaemon();
      try {
        execFileSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'pipe' });
      } catch {}
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
