/**
 * Telemetry benchmark (issue 2, "Measured"):
 *  1. CPU time per sample: the long-running reader (one `nvidia-smi … -lms N`) against spawning
 *     nvidia-smi once per sample; the same fake tool, 60 samples each; CPU of this process plus
 *     its children (/proc/self/stat utime+stime and cutime+cstime of reaped children).
 *     Target: long-running ≤ 1/5 of per-spawn.
 *  2. The idle headless agent (`node dist/runtime/cli.js agent --port 0`, temp OFFSHIFT_HOME,
 *     fake 2-GPU nvidia-smi) over 60 s: resident memory (VmRSS) and CPU (utime+stime) of the
 *     agent process, with the V8 flags it ships with (runtime/agent/node-flags.ts), with and
 *     without an unlocked wallet, the market off (the demo network would hand it jobs).
 *     Targets (issue 11): < 80 MB at the peak, < 0.5 % of one core.
 * Linux only (/proc). Needs `npm run build:node` first for part 2 (`npm run bench` builds).
 * Run: npx tsx test/bench/telemetry.ts   (OFFSHIFT_BENCH_IDLE_S shortens part 2)
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AGENT_NODE_FLAGS } from '../../runtime/agent/node-flags.js';
import { createClient } from '../../runtime/api/client.js';
import { connectWebSocket } from '../../runtime/api/transports/websocket-client.js';
import { NvidiaTelemetryReader } from '../../runtime/gpu/nvidia-telemetry.js';
import { parseTelemetryCsv, TELEMETRY_FIELDS } from '../../runtime/gpu/telemetry-csv.js';
import { silentLogger } from '../../runtime/log.js';
import { makeFakeGpuTools } from '../helpers/fake-gpu-tools.js';
import { makeTempHome } from '../helpers/temp-home.js';

const SAMPLES = 60;
const INTERVAL_MS = 100;
const CAPTURE = 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** CPU seconds of a process from /proc/<pid>/stat: own (utime+stime) and reaped children (cutime+cstime). */
function procCpu(pid: number | 'self'): { own: number; children: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14 → index 11.
  const tick = 100; // CLK_TCK on Linux
  const n = (i: number) => Number(fields[i]) / tick;
  return { own: n(11) + n(12), children: n(13) + n(14) };
}

function rssKiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** CPU (parent + all reaped children) spent while `work` runs. */
async function measureCpu(work: () => Promise<void>): Promise<number> {
  const before = procCpu('self');
  await work();
  const after = procCpu('self');
  return after.own - before.own + (after.children - before.children);
}

async function longRunning(env: NodeJS.ProcessEnv): Promise<number> {
  return measureCpu(
    () =>
      new Promise<void>((resolve) => {
        let count = 0;
        const reader = new NvidiaTelemetryReader({
          env,
          log: silentLogger,
          intervalMs: INTERVAL_MS,
          onStatus: () => {},
          onSamples: () => {
            count += 1; // one tick (both GPUs) = one sample
            if (count === SAMPLES) void reader.stop().then(resolve);
          },
        });
        reader.start();
      }),
  );
}

async function perSpawn(env: NodeJS.ProcessEnv): Promise<number> {
  const args = [`--query-gpu=${TELEMETRY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];
  return measureCpu(async () => {
    for (let i = 0; i < SAMPLES; i++) {
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile('nvidia-smi', args, { env }, (error, out) => (error ? reject(error) : resolve(out))),
      );
      if (parseTelemetryCsv(stdout, Date.now()).length === 0) throw new Error('no sample');
    }
  });
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry), ...descendants(Number(entry)));
    } catch {}
  }
  return out;
}

async function idleAgent(env: NodeJS.ProcessEnv, seconds: number, withWallet: boolean) {
  const cli = path.join(root, 'dist', 'runtime', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error('dist/runtime/cli.js is missing: run `npm run build:node` first.');
  const temp = makeTempHome('offshift-bench-agent-');
  // Idle means no work: the demo network (on by default on a fresh install) would hand the agent
  // jobs, so the market is off here (OFFSHIFT_BENCH_MARKET=demo keeps it on).
  if (env.OFFSHIFT_BENCH_MARKET !== 'demo') fs.writeFileSync(path.join(temp.home, 'settings.json'), JSON.stringify({ version: 1, market: { demo: false } }) + '\n', { mode: 0o600 });
  if (withWallet) {
    // An owner with a wallet: the agent loads the wallet code (ethers) at start to reconcile.
    const passwordFile = path.join(temp.home, 'password');
    fs.writeFileSync(passwordFile, 'bench password, not a secret\n', { mode: 0o600 });
    await promisify(execFile)(process.execPath, [cli, 'wallet', 'create', '--password-file', passwordFile, '--json'], { env: { ...env, OFFSHIFT_HOME: temp.home } });
  }
  // The flags the agent ships with (OFFSHIFT_BENCH_NODE_FLAGS overrides them; "" for none).
  const flags = env.OFFSHIFT_BENCH_NODE_FLAGS !== undefined ? env.OFFSHIFT_BENCH_NODE_FLAGS.split(' ').filter(Boolean) : [...AGENT_NODE_FLAGS];
  const agent = spawn(process.execPath, [...flags, cli, 'agent', '--port', '0'], { env: { ...env, OFFSHIFT_HOME: temp.home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  agent.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  agent.stderr.on('data', () => {});
  try {
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('Dashboard:')) {
      if (agent.exitCode !== null || Date.now() > deadline) throw new Error(`the agent did not start: ${stdout}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (withWallet) {
      // Unlocked, as an owner's agent runs: through the API, like the dashboard.
      const url = new URL(/Dashboard: (\S+)/.exec(stdout)![1]!);
      const client = createClient(await connectWebSocket(Number(url.port), url.hash.replace('#token=', '')));
      try {
        await client.call('wallet.unlock', { password: 'bench password, not a secret' });
      } finally {
        client.close();
      }
    }
    await new Promise((r) => setTimeout(r, 2000)); // settle after start-up
    const pid = agent.pid!;
    const kids = descendants(pid);
    const cpu0 = procCpu(pid).own;
    const kidCpu0 = kids.map((k) => procCpu(k).own);
    const t0 = performance.now();
    const rss: number[] = [];
    const kidRss: number[] = [];
    for (let i = 0; i < seconds; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      rss.push(rssKiB(pid));
      kidRss.push(kids.reduce((sum, k) => sum + (fs.existsSync(`/proc/${k}`) ? rssKiB(k) : 0), 0));
    }
    const wall = (performance.now() - t0) / 1000;
    const cpu = procCpu(pid).own - cpu0;
    const kidCpu = kids.reduce((sum, k, i) => sum + (fs.existsSync(`/proc/${k}`) ? procCpu(k).own - kidCpu0[i]! : 0), 0);
    return {
      wall,
      rssMaxMB: Math.max(...rss) / 1024,
      rssAvgMB: rss.reduce((a, b) => a + b, 0) / rss.length / 1024,
      cpuPct: (cpu / wall) * 100,
      children: kids.length,
      childRssMaxMB: Math.max(...kidRss) / 1024,
      childCpuPct: (kidCpu / wall) * 100,
    };
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => (agent.exitCode !== null ? r(null) : agent.once('exit', r)));
    temp.cleanup();
  }
}

export default async function telemetryBench(): Promise<void> {
  if (process.platform !== 'linux') {
    console.log('telemetry bench: skipped (reads /proc; Linux only)');
    return;
  }
  const fake = makeFakeGpuTools({ nvidiaXml: CAPTURE });
  try {
    const env = fake.env(process.env);
    // Warm both paths once (module loading, page cache), then measure.
    await perSpawn(env).catch(() => 0);
    const streamCpu = await longRunning(env);
    const spawnCpu = await perSpawn(env);
    const perSampleStream = (streamCpu / SAMPLES) * 1000;
    const perSampleSpawn = (spawnCpu / SAMPLES) * 1000;
    const ratio = perSampleStream / perSampleSpawn;
    console.log(`telemetry: ${SAMPLES} samples at ${INTERVAL_MS} ms, fake nvidia-smi (${CAPTURE}), CPU of parent + children`);
    console.log(`  long-running reader : ${perSampleStream.toFixed(2)} ms CPU per sample (${(streamCpu * 1000).toFixed(0)} ms total)`);
    console.log(`  spawn per sample    : ${perSampleSpawn.toFixed(2)} ms CPU per sample (${(spawnCpu * 1000).toFixed(0)} ms total)`);
    console.log(`  ratio               : ${ratio.toFixed(3)} (target ≤ 0.2) ${ratio <= 0.2 ? 'OK' : 'MISSED'}`);

    const seconds = Number(process.env.OFFSHIFT_BENCH_IDLE_S ?? 60);
    for (const withWallet of [false, true]) {
      const idle = await idleAgent(env, seconds, withWallet);
      console.log(`idle headless agent ${withWallet ? 'with a wallet, unlocked' : 'without a wallet (fresh install)'}${process.env.OFFSHIFT_BENCH_MARKET === 'demo' ? ', demo market on' : ', market off'}, node ${process.env.OFFSHIFT_BENCH_NODE_FLAGS ?? AGENT_NODE_FLAGS.join(' ')} over ${idle.wall.toFixed(0)} s (2 fake GPUs, telemetry every 1000 ms):`);
      console.log(`  resident memory     : mean ${idle.rssAvgMB.toFixed(1)} MB, max ${idle.rssMaxMB.toFixed(1)} MB (target < 80 MB at the peak) ${idle.rssMaxMB < 80 ? 'OK' : 'MISSED'}`);
      console.log(`  CPU                 : ${idle.cpuPct.toFixed(2)} % of one core (target < 0.5 %) ${idle.cpuPct < 0.5 ? 'OK' : 'MISSED'}`);
      console.log(
        `  its ${idle.children} child process(es) (the fake nvidia-smi -lms, a node script; real nvidia-smi is lighter): ${idle.childRssMaxMB.toFixed(1)} MB, ${idle.childCpuPct.toFixed(2)} % of one core`,
      );
    }
  } finally {
    fake.cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  telemetryBench().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
