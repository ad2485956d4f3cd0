/**
 * Metrics benchmark (issue 17, "Measured"): what serving /metrics costs an agent.
 *
 * N real headless agents (`node <shipped flags> dist/runtime/cli.js agent --port 0`, each its own
 * data folder, the market off, a fake nvidia-smi printing a real 2-GPU capture), each with the
 * metrics listener on 127.0.0.1:<free port> and its own token. The run alternates windows with
 * scraping off and on (off, on, off, on: drift from start-up and the machine's other load falls
 * on both sides); while on, every agent is scraped every interval by a plain HTTP GET with its
 * bearer token (keep-alive, as Prometheus does), the agents' scrapes spread over the interval.
 * From /proc/<pid>/stat and status: each agent's CPU time and resident memory in the on windows
 * against the off windows. Targets: under 0.1 % of one core and 5 MB per agent. Also the scrape
 * time seen by the scraper (p50, p99) and the body's size.
 *
 * Linux only (/proc). Needs `npm run build:node` first (`npm run bench` builds).
 * Run: npx tsx test/bench/metrics.ts
 * Env: OFFSHIFT_BENCH_AGENTS (20), OFFSHIFT_BENCH_SCRAPE_S (scrape interval, 15),
 *      OFFSHIFT_BENCH_WINDOW_S (each of the four windows, 120), OFFSHIFT_BENCH_DCGM=1 (DCGM series too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AGENT_NODE_FLAGS } from '../../runtime/agent/node-flags.js';
import { openSettingsStore } from '../../runtime/settings/store.js';
import { makeFakeGpuTools } from '../helpers/fake-gpu-tools.js';
import { cpuSeconds, rssMiB } from '../helpers/proc-stats.js';
import { freePort } from '../helpers/prometheus.js';
import { makeTempHome } from '../helpers/temp-home.js';

const CAPTURE = 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(root, 'dist', 'runtime', 'cli.js');

interface Agent {
  child: ChildProcess;
  address: string;
  token: string;
  cleanup: () => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startAgent(env: NodeJS.ProcessEnv, dcgm: boolean): Promise<Agent> {
  const temp = makeTempHome('offshift-bench-metrics-');
  const address = `127.0.0.1:${await freePort()}`;
  openSettingsStore(temp.home).update('metrics', { listen: address, dcgmCompat: dcgm });
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, CLI, 'agent', '--port', '0'], {
    cwd: root,
    env: { ...env, HOME: temp.home, OFFSHIFT_HOME: temp.home, OFFSHIFT_MARKET: 'off', OFFSHIFT_PORT: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', () => {});
  const deadline = Date.now() + 60_000;
  const tokenFile = path.join(temp.home, 'metrics-token');
  while (!stdout.includes('Dashboard:') || !fs.existsSync(tokenFile)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`an agent did not start: ${stdout.slice(-2000)}`);
    await sleep(50);
  }
  return { child, address, token: fs.readFileSync(tokenFile, 'utf8').trim(), cleanup: temp.cleanup };
}

async function stopAgent(a: Agent): Promise<void> {
  if (a.child.exitCode === null && a.child.signalCode === null) {
    const exited = new Promise((r) => a.child.once('exit', r));
    a.child.kill('SIGTERM');
    const timer = setTimeout(() => a.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  a.cleanup();
}

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);

interface Window {
  cpu: number[];
  rss: number[][];
  wall: number;
}

/** One window: every agent's CPU seconds over it and its RSS once a second; scrapes while `scrape`. */
async function measureWindow(agents: Agent[], seconds: number, intervalS: number, scrape: boolean, times: number[], sizes: number[], failures: { n: number }): Promise<Window> {
  const pids = agents.map((a) => a.child.pid!);
  const cpu0 = pids.map((p) => cpuSeconds(p));
  const rss: number[][] = pids.map(() => []);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const scrapers = scrape
    ? agents.map(async (a, i) => {
        // Spread the agents over the interval, as Prometheus does with its per-target offsets.
        let next = t0 + (i * intervalS * 1000) / agents.length;
        while (next < end) {
          await sleep(Math.max(0, next - performance.now()));
          const s = performance.now();
          try {
            const res = await fetch(`http://${a.address}/metrics`, { headers: { authorization: `Bearer ${a.token}` } });
            const body = await res.text();
            if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
            times.push(performance.now() - s);
            sizes.push(Buffer.byteLength(body));
          } catch {
            failures.n += 1;
          }
          next += intervalS * 1000;
        }
      })
    : [];
  while (performance.now() < end) {
    await sleep(Math.min(1000, end - performance.now()));
    pids.forEach((p, i) => rss[i]!.push(rssMiB(p)));
  }
  await Promise.all(scrapers);
  const wall = (performance.now() - t0) / 1000;
  return { cpu: pids.map((p, i) => cpuSeconds(p) - cpu0[i]!), rss, wall };
}

export default async function metricsBench(): Promise<void> {
  if (process.platform !== 'linux') {
    console.log('metrics bench: skipped (reads /proc; Linux only)');
    return;
  }
  if (!fs.existsSync(CLI)) throw new Error('dist/runtime/cli.js is missing: run `npm run build:node` first.');
  const n = Number(process.env.OFFSHIFT_BENCH_AGENTS ?? 20);
  const intervalS = Number(process.env.OFFSHIFT_BENCH_SCRAPE_S ?? 15);
  const windowS = Number(process.env.OFFSHIFT_BENCH_WINDOW_S ?? 120);
  const dcgm = process.env.OFFSHIFT_BENCH_DCGM === '1';
  const fake = makeFakeGpuTools({ nvidiaXml: CAPTURE });
  const agents: Agent[] = [];
  try {
    const env = fake.env(process.env);
    // Started a few at a time: start-up is the heaviest moment of an agent.
    for (let i = 0; i < n; i += 4) agents.push(...(await Promise.all(Array.from({ length: Math.min(4, n - i) }, () => startAgent(env, dcgm)))));
    // Settle, and warm each listener once (the first scrape loads the GPU inventory and the image view).
    await sleep(5000);
    await Promise.all(agents.map((a) => fetch(`http://${a.address}/metrics`, { headers: { authorization: `Bearer ${a.token}` } }).then((r) => r.text())));
    await sleep(2000);

    const times: number[] = [];
    const sizes: number[] = [];
    const failures = { n: 0 };
    const off: Window[] = [];
    const on: Window[] = [];
    for (const scrape of [false, true, false, true]) (scrape ? on : off).push(await measureWindow(agents, windowS, intervalS, scrape, times, sizes, failures));

    const wall = (ws: Window[]) => ws.reduce((s, w) => s + w.wall, 0);
    const cpuPct = (ws: Window[], i: number) => (ws.reduce((s, w) => s + w.cpu[i]!, 0) / wall(ws)) * 100;
    const rssMean = (ws: Window[], i: number) => {
      const all = ws.flatMap((w) => w.rss[i]!);
      return all.reduce((a, b) => a + b, 0) / all.length;
    };
    const rssMax = (ws: Window[], i: number) => Math.max(...ws.flatMap((w) => w.rss[i]!));
    const addedCpu = agents.map((_, i) => cpuPct(on, i) - cpuPct(off, i));
    const addedRss = agents.map((_, i) => rssMean(on, i) - rssMean(off, i));
    const addedRssMax = agents.map((_, i) => rssMax(on, i) - rssMax(off, i));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const sortedTimes = [...times].sort((a, b) => a - b);
    const scrapesPerAgent = times.length / n;

    console.log(`metrics: ${n} agents (node ${AGENT_NODE_FLAGS.join(' ')}, market off, fake 2-GPU nvidia-smi, DCGM series ${dcgm ? 'on' : 'off'}), scraped every ${intervalS} s by HTTP GET with the bearer token;`);
    console.log(`  windows off/on/off/on of ${windowS} s; ${times.length} scrapes (${scrapesPerAgent.toFixed(1)} per agent), ${failures.n} failed; body ${sizes.length ? Math.round(mean(sizes)) : 0} bytes`);
    console.log(`  agent CPU, scraping off : mean ${mean(agents.map((_, i) => cpuPct(off, i))).toFixed(3)} % of one core`);
    console.log(`  agent CPU, scraping on  : mean ${mean(agents.map((_, i) => cpuPct(on, i))).toFixed(3)} % of one core`);
    // The target is for Prometheus' usual 15 s interval: a shorter one is scaled to it.
    const at15 = mean(addedCpu) * (intervalS / 15);
    console.log(`  added CPU per agent     : mean ${mean(addedCpu).toFixed(3)} %, min ${Math.min(...addedCpu).toFixed(3)} %, max ${Math.max(...addedCpu).toFixed(3)} % of one core at one scrape per ${intervalS} s`);
    const cpuPerScrapeMs = (((mean(addedCpu) / 100) * intervalS) * 1000);
    console.log(`  → CPU per scrape        : about ${cpuPerScrapeMs.toFixed(1)} ms; at one scrape per 15 s ${at15.toFixed(3)} % of one core (target < 0.1 %) ${at15 < 0.1 ? 'OK' : 'MISSED'}`);
    console.log(`  agent RSS, scraping off : mean ${mean(agents.map((_, i) => rssMean(off, i))).toFixed(1)} MB, max ${Math.max(...agents.map((_, i) => rssMax(off, i))).toFixed(1)} MB`);
    console.log(`  agent RSS, scraping on  : mean ${mean(agents.map((_, i) => rssMean(on, i))).toFixed(1)} MB, max ${Math.max(...agents.map((_, i) => rssMax(on, i))).toFixed(1)} MB`);
    console.log(
      `  added RSS per agent     : mean ${mean(addedRss).toFixed(2)} MB (max of one agent ${Math.max(...addedRss).toFixed(2)} MB; peak to peak ${mean(addedRssMax).toFixed(2)} MB) (target < 5 MB) ${Math.max(...addedRss) < 5 ? 'OK' : 'MISSED'}`,
    );
    console.log(`  scrape time             : p50 ${quantile(sortedTimes, 0.5).toFixed(1)} ms, p99 ${quantile(sortedTimes, 0.99).toFixed(1)} ms, max ${(sortedTimes.at(-1) ?? NaN).toFixed(1)} ms`);
  } finally {
    await Promise.all(agents.map(stopAgent));
    fake.cleanup();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  metricsBench().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
