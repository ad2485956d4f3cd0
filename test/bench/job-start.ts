/**
 * Job start/stop latency on the real engine (image present, command `true`), 20 runs each:
 * - request → running and request → completed through the Offshift runner, against
 *   `docker run --rm IMAGE true` from the Docker CLI (its completion), and the ratio;
 * - pause request → frozen; stop request → container gone, with a 1 s grace;
 * - the same request → running / completed with an agent that is not root (run under setpriv as
 *   uid 65534 in the docker group, no capabilities): /output is a Docker volume held by a keeper
 *   container, against the same job with no /output (what the keeper adds).
 * The jobs keep the default /output (64 MiB); as root it is the host tmpfs the agent mounts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobRunner } from '../../runtime/jobs/runner.js';
import { connectDocker } from '../../runtime/engine/index.js';
import { DATABASE_FILE, openDatabase } from '../../runtime/storage/database.js';
import { makeTempHome } from '../helpers/temp-home.js';
import { canBuildTestImage, sandboxTestImage } from '../helpers/test-images.js';

const RUNS = 20;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '../..');
const AGENT_USER_FLAG = '--as-agent-user';

/** request → running and request → completed of `runs` jobs, one after another. */
async function measureStart(runner: JobRunner, spec: Record<string, unknown>, runs: number): Promise<{ toRunning: number[]; toDone: number[] }> {
  const toRunning: number[] = [];
  const toDone: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    let running = 0;
    const off = runner.onChange((j) => {
      if (j.state === 'running' && !running) running = performance.now();
    });
    const job = await runner.submit(spec);
    const done = await runner.wait(job.id);
    const t2 = performance.now();
    off();
    if (done.state !== 'succeeded') throw new Error(`bench job ${done.state}: ${done.detail}`);
    toRunning.push(running - t0);
    toDone.push(t2 - t0);
  }
  return { toRunning, toDone };
}

/** In the setpriv child: the runner as a user that may not mount, with and without /output. */
async function asAgentUser(image: string, home: string): Promise<void> {
  const db = openDatabase(path.join(home, DATABASE_FILE));
  const runner = new JobRunner({ db, docker: connectDocker(), home, graceMs: 1000 });
  try {
    // Warm up (the keeper image is built here once).
    await runner.wait((await runner.submit({ image, command: ['true'] })).id);
    const line = (label: string, xs: number[]) => console.log(`  ${label.padEnd(44)} median ${fmt(pct(xs, 50))}  p99 ${fmt(pct(xs, 99))}`);
    const keeper = await measureStart(runner, { image, command: ['true'] }, RUNS);
    const none = await measureStart(runner, { image, command: ['true'], outputMiB: 0 }, RUNS);
    console.log(`job-start, agent not root (uid ${process.getuid?.()}, docker group, no capabilities; ${RUNS} runs each):`);
    line('request → running, /output volume + keeper', keeper.toRunning);
    line('request → running, no /output', none.toRunning);
    line('request → completed, /output volume + keeper', keeper.toDone);
    line('request → completed, no /output', none.toDone);
    console.log(`  the keeper adds (medians): ${fmt(pct(keeper.toRunning, 50) - pct(none.toRunning, 50))} to running, ${fmt(pct(keeper.toDone, 50) - pct(none.toDone, 50))} to completed`);
  } finally {
    await runner.close();
    db.close();
  }
}

/** The non-root figures, from a child run under setpriv; a line saying why when it cannot run. */
function benchAgentUser(image: string): void {
  const socket = '/var/run/docker.sock';
  if (process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).error || !fs.existsSync(socket)) {
    console.log('job-start, agent not root: skipped (needs root to drop to another user, setpriv, and the local Docker socket)');
    return;
  }
  execFileSync(process.execPath, [path.join(ROOT, 'resources/output-keeper/build.mjs')], { stdio: 'pipe' });
  const { home, cleanup } = makeTempHome('offshift-bench-nonroot-');
  try {
    fs.chownSync(home, 65534, 65534);
    const gid = fs.statSync(socket).gid;
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', `--groups=${gid}`, '--inh-caps=-all', '--bounding-set=-all', process.execPath, '--import', 'tsx', SELF, AGENT_USER_FLAG, image, home],
      { cwd: ROOT, env: { ...process.env, HOME: home }, encoding: 'utf8', timeout: 600_000 },
    );
    process.stdout.write(r.stdout);
    if (r.status !== 0) throw new Error(`the non-root bench failed: ${r.stderr || r.error?.message}`);
  } finally {
    cleanup();
  }
}

export default async function main(): Promise<void> {
  const why = canBuildTestImage();
  if (why) {
    console.log(`job-start: skipped (${why})`);
    return;
  }
  const image = sandboxTestImage();
  const { home, cleanup } = makeTempHome('offshift-bench-');
  const db = openDatabase(path.join(home, DATABASE_FILE));
  const docker = connectDocker();
  const runner = new JobRunner({ db, docker, home, graceMs: 1000 });
  try {
    // Warm up both paths once.
    await runner.wait((await runner.submit({ image, command: ['true'] })).id);
    execFileSync('docker', ['run', '--rm', '--label', 'io.offshift.test=true', image, 'true']);

    const toRunning: number[] = [];
    const toDone: number[] = [];
    const cli: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const one = await measureStart(runner, { image, command: ['true'] }, 1);
      toRunning.push(...one.toRunning);
      toDone.push(...one.toDone);

      const c0 = performance.now();
      const r = spawnSync('docker', ['run', '--rm', '--label', 'io.offshift.test=true', image, 'true']);
      if (r.status !== 0) throw new Error(`docker run failed: ${r.stderr.toString()}`);
      cli.push(performance.now() - c0);
    }

    const pause: number[] = [];
    const stop: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const job = await runner.submit({ image, command: ['sleep', '60'] });
      while (runner.get(job.id)!.state !== 'running') await new Promise((r) => setTimeout(r, 5));
      const containerId = db.prepare('SELECT container_id FROM jobs WHERE id = ?').pluck().get(job.id) as string;
      const p0 = performance.now();
      await runner.pauseAll();
      pause.push(performance.now() - p0);
      if (!(await docker.getContainer(containerId).inspect()).State.Paused) throw new Error('pauseAll returned before the container was frozen');
      await runner.resumeAll();
      const s0 = performance.now();
      await runner.cancel(job.id);
      await runner.wait(job.id);
      stop.push(performance.now() - s0);
      const gone = await docker.getContainer(containerId).inspect().then(() => false, () => true);
      if (!gone) throw new Error('the container outlived its job');
    }

    const m = (xs: number[]) => pct(xs, 50);
    console.log(`job-start (${RUNS} runs each, image present, command \`true\`):`);
    console.log(`  offshift request → running    median ${fmt(m(toRunning))}  p99 ${fmt(pct(toRunning, 99))}`);
    console.log(`  offshift request → completed  median ${fmt(m(toDone))}  p99 ${fmt(pct(toDone, 99))}`);
    console.log(`  docker run --rm (CLI)         median ${fmt(m(cli))}  p99 ${fmt(pct(cli, 99))}`);
    console.log(`  ratio offshift completed / docker CLI: ${(m(toDone) / m(cli)).toFixed(2)} (target ≤ 1.00)`);
    console.log(`  pause request → frozen        p50 ${fmt(pct(pause, 50))}  p99 ${fmt(pct(pause, 99))}`);
    console.log(`  stop request → gone (1 s grace) p50 ${fmt(pct(stop, 50))}  p99 ${fmt(pct(stop, 99))}`);
  } finally {
    await runner.close();
    db.close();
    cleanup();
  }
  benchAgentUser(image);
}

if (process.argv[2] === AGENT_USER_FLAG) await asAgentUser(process.argv[3]!, process.argv[4]!);
else if (import.meta.url === `file://${process.argv[1]}`) await main();
