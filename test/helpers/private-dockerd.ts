/**
 * A Docker engine of the test's own, to restart without touching the shared one (other tests
 * use it): its own socket, data root, exec root (and so its own managed containerd), pid file,
 * no bridge and no iptables rules. Images are copied in from the shared engine with
 * `docker save | docker -H … load`. Needs root and dockerd.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { connectDocker } from '../../runtime/sandbox/docker.js';

export function privateDockerdSkipReason(): string | null {
  if (process.getuid?.() !== 0) return 'a private dockerd needs root';
  try {
    execFileSync('dockerd', ['--version'], { stdio: 'pipe' });
  } catch {
    return 'dockerd is not installed';
  }
  return null;
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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ofs-dd-'));
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
    child = spawn('dockerd', args, { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        await docker.ping();
        return;
      } catch {
        if (Date.now() > until || child.exitCode !== null) {
          throw new Error(`the private dockerd did not start: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
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
