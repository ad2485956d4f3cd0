/**
 * Job outputs for an agent that does not run as root, for real: the runner runs in a child
 * process under setpriv as uid 65534, with the docker group and no capabilities (as the desktop
 * app and the system service run), on the real engine. Its jobs get /output through a Docker
 * tmpfs volume held by a keeper container and read back through the archive API.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../runtime/jobs/schema.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { skipReason as dockerSkip } from './harness.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const CHILD = path.join(HERE, 'nonroot-child.ts');
const SOCKET = '/var/run/docker.sock';
const UID = 65534;

/** Why these tests cannot run here, or null. */
function whyNot(): string | null {
  if (dockerSkip) return dockerSkip;
  if (spawnSync('setpriv', ['--version']).error) return 'setpriv is not installed (apt-get install util-linux)';
  if (process.getuid?.() !== 0) return 'the test must start as root to drop to another user with setpriv';
  let st: fs.Stats;
  try {
    st = fs.statSync(SOCKET);
  } catch {
    return `${SOCKET} is not there (a remote DOCKER_HOST is not covered)`;
  }
  if ((st.mode & 0o060) !== 0o060) return `${SOCKET} is not readable and writable by its group (mode ${(st.mode & 0o777).toString(8)}): a docker-group user cannot use it`;
  return null;
}
const skip = whyNot();
if (skip) console.warn(`[nonroot.test] skipped: ${skip}`);

let image: string;
const homes: string[] = [];
const jobIds: string[] = [];

type Result = { job: Job; system: string[]; uid: number; canMount: boolean };

function makeHome(): string {
  const home = makeTempDir('offshift-nonroot-');
  fs.chownSync(home, UID, UID);
  homes.push(home);
  return home;
}

/** The child runner as uid 65534 with the socket's group and no capabilities. */
function child(home: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const gid = fs.statSync(SOCKET).gid;
  return spawn(
    'setpriv',
    [`--reuid=${UID}`, `--regid=${UID}`, `--groups=${gid}`, '--inh-caps=-all', '--bounding-set=-all', process.execPath, '--import', 'tsx', CHILD, home, ...args],
    { cwd: ROOT, env: { ...process.env, HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** Runs the child until it prints RESULT (or, with `killAtRunning`, until its job runs, then SIGKILL). */
async function runChild(home: string, args: string[], opts: { env?: NodeJS.ProcessEnv; killAtRunning?: boolean } = {}): Promise<{ id: string; result: Result | null }> {
  const c = child(home, args, opts.env);
  let out = '';
  let err = '';
  c.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.kill('SIGKILL');
      reject(new Error(`the non-root runner did not finish: ${out} ${err}`));
    }, 60_000);
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const running = /RUNNING (\S+)/.exec(out);
      if (running && opts.killAtRunning) {
        clearTimeout(timer);
        c.kill('SIGKILL');
        c.once('exit', () => resolve({ id: running[1]!, result: null }));
      }
    });
    c.on('exit', (code) => {
      if (opts.killAtRunning) return;
      clearTimeout(timer);
      const m = /RESULT (.+)\n/.exec(out);
      if (!m) return reject(new Error(`the non-root runner exited ${code} without a result: ${err}`));
      const result = JSON.parse(m[1]!) as Result;
      jobIds.push(result.job.id);
      resolve({ id: result.job.id, result });
    });
  });
}

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
/** What is left of a job on the engine and the host: containers, volumes, mounts. */
function leftOf(id: string): string[] {
  return [
    ...docker('ps', '-aq', '--filter', `label=io.offshift.job=${id}`).split('\n'),
    ...docker('ps', '-aq', '--filter', `label=io.offshift.output=${id}`).split('\n'),
    ...docker('volume', 'ls', '-q', '--filter', `label=io.offshift.output=${id}`).split('\n'),
    ...fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(`offshift-output-${id}`)),
  ].filter(Boolean);
}

const spec = (command: string, extra: Record<string, unknown> = {}) => JSON.stringify({ image, outputMiB: 4, timeoutSeconds: 60, command: ['sh', '-c', command], ...extra });

describe.skipIf(skip !== null)('job outputs of an agent that is not root', () => {
  beforeAll(() => {
    image = sandboxTestImage();
    execFileSync(process.execPath, [path.join(ROOT, 'resources/output-keeper/build.mjs')], { stdio: 'pipe' });
  });
  afterAll(() => {
    for (const id of jobIds) {
      for (const c of [...docker('ps', '-aq', '--filter', `label=io.offshift.job=${id}`).split('\n'), ...docker('ps', '-aq', '--filter', `label=io.offshift.output=${id}`).split('\n')].filter(Boolean)) docker('rm', '-f', c);
      for (const v of docker('volume', 'ls', '-q', '--filter', `label=io.offshift.output=${id}`).split('\n').filter(Boolean)) docker('volume', 'rm', '-f', v);
    }
    for (const home of homes) fs.rmSync(home, { recursive: true, force: true });
  });

  it('files come back byte-exact; the cap is a hard ENOSPC; links and FIFOs are not followed; nothing is left', async () => {
    const home = makeHome();
    const { id, result } = await runChild(home, [
      'run',
      spec(
        'echo result > /output/r.txt; mkdir -p /output/sub/deeper; head -c 300000 /dev/urandom > /output/sub/deeper/rand.bin; sha256sum /output/sub/deeper/rand.bin; ' +
          'ln -s /etc/passwd /output/link; ln -s / /output/rootlink; echo h > /output/h1; ln /output/h1 /output/h2; mkfifo /output/fifo; ' +
          'dd if=/dev/zero of=/output/big bs=1M count=20 2>&1; echo "dd-exit=$?"',
      ),
    ]);
    // Really not root: another uid, and no right to mount.
    expect(result!.uid).toBe(UID);
    expect(result!.canMount).toBe(false);
    expect(result!.job.state).toBe('succeeded');
    const log = fs.readFileSync(path.join(home, 'jobs', id, 'log.txt'), 'utf8');
    expect(log).toMatch(/No space left on device/);
    expect(log).toMatch(/dd-exit=1/);
    const out = path.join(home, 'jobs', id, 'output');
    expect(fs.readFileSync(path.join(out, 'r.txt'), 'utf8')).toBe('result\n');
    const rand = fs.readFileSync(path.join(out, 'sub/deeper/rand.bin'));
    expect(rand.length).toBe(300000);
    expect(log).toContain(crypto.createHash('sha256').update(rand).digest('hex'));
    // The cap held: what the job wrote in all fits in 4 MiB.
    expect(fs.statSync(path.join(out, 'big')).size + rand.length).toBeLessThanOrEqual(4 * 1024 * 1024);
    for (const name of ['link', 'rootlink', 'fifo']) expect(fs.existsSync(path.join(out, name))).toBe(false);
    // Two names of one file: the engine archives the first as a file, the second as a hard link (skipped).
    expect(['h1', 'h2'].filter((n) => fs.existsSync(path.join(out, n))).map((n) => fs.readFileSync(path.join(out, n), 'utf8'))).toEqual(['h\n']);
    expect(result!.system.join('')).toMatch(/h2 not kept: a hard link/);
    expect(result!.system.join('')).toMatch(/link not kept: a symbolic link/);
    expect(result!.system.join('')).toMatch(/fifo not kept: a FIFO/);
    expect(leftOf(id)).toEqual([]);
  });

  it('without the keeper built, the job runs without /output and the log says what to do', async () => {
    const home = makeHome();
    const { id, result } = await runChild(home, ['run', spec('test -d /output && echo has-output || echo no-output')], { env: { OFFSHIFT_OUTPUT_KEEPER_BINARY: '' } });
    expect(result!.job.state).toBe('succeeded');
    expect(fs.readFileSync(path.join(home, 'jobs', id, 'log.txt'), 'utf8')).toContain('no-output');
    expect(result!.system.join('')).toMatch(/no \/output folder: The output keeper is not built .*run npm run build/);
    expect(leftOf(id)).toEqual([]);
  });

  it('the agent killed mid-job: the next start re-adopts the job and collects its output', async () => {
    const home = makeHome();
    const { id } = await runChild(home, ['run', spec('echo before > /output/a.txt; sleep 2; echo after > /output/b.txt')], { killAtRunning: true });
    jobIds.push(id);
    // The keeper outlived the agent and holds the files.
    expect(docker('ps', '-q', '--filter', `label=io.offshift.output=${id}`)).not.toBe('');
    const { result } = await runChild(home, ['recover']);
    expect(result!.job).toMatchObject({ id, state: 'succeeded' });
    const out = path.join(home, 'jobs', id, 'output');
    expect(fs.readFileSync(path.join(out, 'a.txt'), 'utf8')).toBe('before\n');
    expect(fs.readFileSync(path.join(out, 'b.txt'), 'utf8')).toBe('after\n');
    expect(leftOf(id)).toEqual([]);
  });

  it('the agent killed and the job container gone meanwhile: the next start still collects the output and removes keeper and volume', async () => {
    const home = makeHome();
    const { id } = await runChild(home, ['run', spec('echo kept > /output/k.txt; sleep 30')], { killAtRunning: true });
    jobIds.push(id);
    // The job's container disappears while no agent runs (its end recorded, its output not yet read back).
    for (const c of docker('ps', '-aq', '--filter', `label=io.offshift.job=${id}`).split('\n').filter(Boolean)) docker('rm', '-f', c);
    const { result } = await runChild(home, ['recover']);
    expect(result!.job).toMatchObject({ id, state: 'failed', reason: 'container-lost' });
    expect(fs.readFileSync(path.join(home, 'jobs', id, 'output', 'k.txt'), 'utf8')).toBe('kept\n');
    expect(leftOf(id)).toEqual([]);
  });
});
