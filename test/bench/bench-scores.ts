/**
 * Benchmark history (issue 9): the marketplace asks `latestScores(home)` whenever it
 * advertises, so it must stay cheap as the history grows. Measures, on a real SQLite bench.db
 * in a temp folder with 100 GPUs × 100 runs (10,000 results):
 *  1. latestScores: median and worst of 50 calls (each opens the file read-only, one query, closes).
 *     Target: median under 10 ms.
 *  2. The result rules (parse the program's JSON, checks, score, ratios, throttling, flags) per GPU.
 * Run: npx tsx test/bench/bench-scores.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProgramOutput } from '../../runtime/bench/parse.js';
import { resultFromProgram } from '../../runtime/bench/results.js';
import { latestScores } from '../../runtime/bench/scores.js';
import { openBenchStore } from '../../runtime/bench/store.js';
import { silentLogger } from '../../runtime/log.js';
import { makeTempHome } from '../helpers/temp-home.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'bench', 'rtx3090-full.synthetic.json');

export default async function main(): Promise<void> {
  const text = fs.readFileSync(FIXTURE, 'utf8');
  const ctx = { gpu: null, samples: [], otherProcesses: [], quick: false, inContainer: false, measuredAt: 0, previous: null };
  const base = resultFromProgram(parseProgramOutput(text).gpus[0]!, ctx);
  const temp = makeTempHome('offshift-bench-scores-');
  try {
    const store = openBenchStore(temp.home, 'bench');
    const t0 = performance.now();
    for (let run = 0; run < 100; run++) for (let g = 0; g < 100; g++) store.add({ ...base, gpuKey: `GPU-${g}`, measuredAt: run * 1000 + g, score: 50 + ((run * 7 + g) % 13) }, '595.58.03');
    store.close();
    console.log(`history: 10,000 results written in ${((performance.now() - t0) / 1000).toFixed(2)} s (${(fs.statSync(path.join(temp.home, 'bench.db')).size / 1e6).toFixed(1)} MB)`);

    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      count = (await latestScores(temp.home, silentLogger)).length;
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const median = times[25]!;
    console.log(`latestScores: ${count} GPUs, median ${median.toFixed(2)} ms, worst ${times[49]!.toFixed(2)} ms over 50 calls (target: median < 10 ms) ${median < 10 ? 'OK' : 'MISSED'}`);

    const n = 2000;
    const s = performance.now();
    for (let i = 0; i < n; i++) resultFromProgram(parseProgramOutput(text).gpus[0]!, ctx);
    console.log(`result rules: ${(((performance.now() - s) / n) * 1000).toFixed(0)} µs per GPU (parse + checks + score + throttling + flags)`);
  } finally {
    temp.cleanup();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
