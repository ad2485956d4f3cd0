/**
 * iptables through the Docker engine, for an agent in the docker group without CAP_NET_ADMIN
 * (the desktop app): the engine already does what root does for its group, so the agent asks it
 * for one short-lived container per firewall operation (check, install, remove) that runs the
 * host's own iptables in the host's network namespace (`NetworkMode: host`) with CAP_NET_ADMIN
 * and CAP_NET_RAW and nothing else (every other capability dropped, read-only root, no new
 * privileges, 64 MiB, no network of its own to speak of). Each command is a `docker exec` in that
 * container; the container is removed when the operation ends (and removes itself otherwise:
 * AutoRemove, and its keep-alive `sleep` ends after 5 minutes).
 *
 * The image is made from this machine's files (no registry: local-image.ts): the binary the
 * agent would run (`iptables` resolved: xtables-nft-multi or xtables-legacy-multi), the shared
 * libraries it links (ldd), the xtables extensions the rules load (libxt_standard, libxt_tcp,
 * from the host's xtables folder, XTABLES_LIBDIR in the container) and `sleep`. So the rules go
 * through the same backend (nftables or legacy) as dockerd's own. /run/xtables.lock, the legacy
 * backend's lock, is the host's when it exists (shared with dockerd).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createContainer, type ContainerCreateOptions, type Engine, type EngineContainer } from '../../engine/index.js';
import { ensureLocalImage, isFile, linkedLibraries, RootfsBuilder, type LocalImageRecipe } from '../local-image.js';
import type { TarEntry } from '../tar-write.js';
import { firstLine, type Iptables, type IptablesRunner } from './iptables-runner.js';

export const FIREWALL_IMAGE_REPO = 'offshift-iptables';
export const FIREWALL_IMAGE_LABEL = 'io.offshift.iptables-image';
/** On each operation's container, so that one left behind can be found (docker ps -a --filter). */
export const FIREWALL_CONTAINER_LABEL = 'io.offshift.firewall';
/** The extensions the firewall's rules load: `-j ACCEPT/DROP/<chain>` and `-p tcp --dport`. */
export const XTABLES_EXTENSIONS = ['libxt_standard.so', 'libxt_tcp.so'] as const;
const MULTI = '/sbin/xtables-multi';
const XTABLES_DIR = '/xtables';
const LOCK = '/run/xtables.lock';
const KEEP_ALIVE_S = 300;
const EXEC_TIMEOUT_MS = 20_000;
/** Where `iptables` is looked for besides PATH (a desktop user's PATH often lacks /usr/sbin). */
const SYSTEM_BIN = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

export interface HostIptables {
  /** The binary `iptables` resolves to (a multi-call binary: its first argument picks iptables or ip6tables). */
  binary: string;
  /** The folder holding XTABLES_EXTENSIONS. */
  extensionsDir: string;
  /** The `sleep` that keeps the container up between commands. */
  sleep: string;
}

function findProgram(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of [...(env.PATH ?? '').split(':').filter((d) => d.startsWith('/')), ...SYSTEM_BIN]) {
    const p = path.join(dir, name);
    if (isFile(p)) return fs.realpathSync(p);
  }
  return null;
}

/** The host's iptables and what goes with it; throws saying what is missing. */
export function findHostIptables(env: NodeJS.ProcessEnv = process.env): HostIptables {
  const binary = findProgram('iptables', env);
  if (!binary) throw new Error('iptables is not installed on this machine (apt-get install iptables)');
  const sleep = findProgram('sleep', env);
  if (!sleep) throw new Error('sleep (coreutils) is not on this machine');
  const candidates = (env.XTABLES_LIBDIR ?? '').split(':').filter((d) => d.startsWith('/'));
  // Beside libxtables: /usr/lib/x86_64-linux-gnu/xtables (Debian), /usr/lib64/xtables (Fedora).
  for (const lib of linkedLibraries(binary)) if (/\/libxtables\.so/.test(lib)) candidates.push(path.join(path.dirname(fs.realpathSync(lib)), 'xtables'));
  candidates.push('/usr/lib/xtables', '/usr/lib64/xtables', '/lib/xtables');
  const extensionsDir = candidates.find((d) => XTABLES_EXTENSIONS.every((e) => isFile(path.join(d, e))));
  if (!extensionsDir) throw new Error(`the xtables extensions (${XTABLES_EXTENSIONS.join(', ')}) were not found beside ${binary}'s libxtables; set XTABLES_LIBDIR to their folder`);
  return { binary, extensionsDir, sleep };
}

/** The image's files: the binary, sleep, the extensions and every library they link, at the host's paths. */
export function iptablesImageFiles(host: HostIptables): TarEntry[] {
  const fsb = new RootfsBuilder();
  for (const d of ['proc', 'sys', 'dev', 'run', 'tmp', 'etc']) fsb.dir(d);
  fsb.hostFile(MULTI, host.binary);
  fsb.hostFile('/sleep', host.sleep);
  const extensions = XTABLES_EXTENSIONS.map((e) => path.join(host.extensionsDir, e));
  for (const e of extensions) fsb.hostFile(path.posix.join(XTABLES_DIR, path.basename(e)), e);
  const libs = new Set<string>();
  for (const program of [host.binary, host.sleep, ...extensions]) for (const lib of linkedLibraries(program)) libs.add(lib);
  for (const lib of [...libs].sort()) fsb.hostFile(lib);
  return fsb.entries;
}

export function iptablesImageRecipe(host: HostIptables): LocalImageRecipe {
  return {
    what: "the firewall's iptables image",
    repo: FIREWALL_IMAGE_REPO,
    label: FIREWALL_IMAGE_LABEL,
    files: iptablesImageFiles(host),
    user: '0:0',
    entrypoint: ['/sleep'],
    failureCode: 'firewall-image-failed',
  };
}

/** The operation's container: the host's network namespace, CAP_NET_ADMIN and CAP_NET_RAW only. Pure. */
export function iptablesContainerSpec(imageId: string, o: { lockExists: boolean; libraryDirs: readonly string[] }): ContainerCreateOptions {
  return {
    Image: imageId,
    Cmd: [String(KEEP_ALIVE_S)],
    User: '0:0',
    Env: [`XTABLES_LIBDIR=${XTABLES_DIR}`, `LD_LIBRARY_PATH=${o.libraryDirs.join(':')}`],
    Labels: { [FIREWALL_CONTAINER_LABEL]: 'true' },
    HostConfig: {
      NetworkMode: 'host',
      CapDrop: ['ALL'],
      CapAdd: ['NET_ADMIN', 'NET_RAW'],
      ReadonlyRootfs: true,
      SecurityOpt: ['no-new-privileges'],
      AutoRemove: true,
      Memory: 64 * 1024 * 1024,
      PidsLimit: 16,
      LogConfig: { Type: 'none', Config: {} },
      // The legacy backend's lock, shared with dockerd; where there is none yet, a private /run.
      ...(o.lockExists ? { Binds: [`${LOCK}:${LOCK}`] } : { Tmpfs: { '/run': 'size=64k' } }),
    },
  };
}

let recipe: LocalImageRecipe | null = null;

async function execIn(container: EngineContainer, cmd: string[]): Promise<string | null> {
  const result = await container.exec(cmd, EXEC_TIMEOUT_MS);
  if (!result) return `timed out after ${EXEC_TIMEOUT_MS / 1000} s`;
  return result.exitCode === 0 ? null : firstLine(result.output, `exit ${result.exitCode ?? 'unknown'}`);
}

/** iptables in a container through `docker`'s engine (see the header). */
export function engineIptables(docker: Engine, env: NodeJS.ProcessEnv = process.env): IptablesRunner {
  return {
    where: 'in a container through the Docker engine',
    async session(work) {
      recipe ??= iptablesImageRecipe(findHostIptables(env));
      const { imageId } = await ensureLocalImage(docker, recipe);
      const libraryDirs = [...new Set(recipe.files.filter((f) => f.data && /\.so(\.|$)/.test(f.name) && !f.name.startsWith('xtables/')).map((f) => '/' + path.posix.dirname(f.name)))];
      const container = await createContainer(docker, iptablesContainerSpec(imageId, { lockExists: fs.existsSync(LOCK), libraryDirs }));
      try {
        await container.start();
        const run: Iptables = (bin, args) => execIn(container, [MULTI, bin, '-w', '5', ...args]);
        return await work(run);
      } finally {
        await container.remove();
      }
    },
  };
}
