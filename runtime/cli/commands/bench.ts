/**
 * `offshift bench run|history|self-test`. With a running agent they go through its API (so
 * the run shows on its dashboard and never overlaps a job); without one they run here, on the
 * same history file.
 */
import type { Client } from '../../api/client.js';
import { AppError } from '../../errors.js';
import { resultsFromRecorded } from '../../bench/recorded.js';
import { createBenchService, type BenchService } from '../../bench/service.js';
import type { BenchGpuResult, BenchHistoryEntry, BenchRunOutput, SelfTest } from '../../bench/schema.js';
import { createGpuService } from '../../gpu/service.js';
import { debugLogger } from '../logger.js';
import { resolveHome } from '../../storage/home.js';
import { readSmallFile } from '../../storage/small-file.js';
import { viaAgentOrLocal } from '../agent-or-local.js';
import { numberOption, option } from '../args.js';
import type { CliCommand, CliIO } from '../command.js';
import { formatTable } from '../table.js';
import { formatCheck } from './check.js';

/** Through the agent when one runs, else a local bench service; closes what it opened. */
function withBench<T>(io: CliIO, viaAgent: (client: Client) => Promise<T>, local: (bench: BenchService) => Promise<T>, telemetry = false): Promise<T> {
  const localOnly = io.env.OFFSHIFT_BENCH_LOCAL === '1';
  return viaAgentOrLocal(io, ({ client }) => viaAgent(client), () => localBench(io, local, telemetry), { localOnly });
}

/** A bench service here, over the same history file as the agent's. */
async function localBench<T>(io: CliIO, local: (bench: BenchService) => Promise<T>, telemetry: boolean): Promise<T> {
  const log = debugLogger(io);
  const gpu = createGpuService({ env: io.env, log, telemetryIntervalMs: 1000, onSamples: () => {}, onTelemetryStatus: () => {} });
  // Telemetry (clocks, heat, power while it measures) only for a run; the GPU list is read on demand.
  if (telemetry) await gpu.start();
  const bench = createBenchService({
    home: resolveHome(io.env),
    env: io.env,
    log,
    gpu,
    // The last event repeats the outcome that the command prints anyway (the results, or the error).
    onProgress: (p) => {
      if (!p.done && !io.env.OFFSHIFT_BENCH_QUIET) io.stderr(`[${Math.round(p.fraction * 100)}%] ${p.message}\n`);
    },
  });
  try {
    return await local(bench);
  } finally {
    bench.close();
    if (telemetry) await gpu.stop();
  }
}

const dash = '-';
const num = (v: number | null, digits = 1) => (v === null ? dash : v.toFixed(digits));
const pct = (v: number | null) => (v === null ? dash : `${Math.round(v * 100)}%`);

/** The issue's JSON form: one object a GPU with the figures, spread, score, spec ratio and throttling. */
export function benchJson(result: BenchRunOutput): unknown {
  return {
    gpus: result.gpus.map((g) => ({
      index: g.index,
      uuid: g.uuid,
      name: g.name,
      backend: g.backend,
      fp32Tflops: g.fp32Tflops,
      fp16Tflops: g.fp16Tflops,
      bf16Tflops: g.bf16Tflops,
      memoryBandwidthGBps: g.memoryBandwidthGBps,
      hostToDeviceGBps: g.hostToDeviceGBps,
      deviceToHostGBps: g.deviceToHostGBps,
      spread: g.spread,
      score: g.score,
      specRatio: g.specRatio,
      throttled: g.throttled,
      durationS: g.durationS,
      inContainer: g.inContainer,
      specName: g.specName,
      ratios: g.ratios,
      flags: g.flags,
      errors: g.errors,
      error: g.error,
      changeVsLast: g.changeVsLast,
    })),
    passthrough: result.passthrough,
  };
}

export function changeSentence(g: Pick<BenchGpuResult, 'changeVsLast' | 'previousAt' | 'measuredAt'>): string | null {
  if (g.changeVsLast === null || g.previousAt === null) return null;
  const days = Math.round((g.measuredAt - g.previousAt) / 86_400_000);
  const when = days <= 0 ? 'earlier today' : days === 1 ? 'yesterday' : days < 7 ? `${days} days ago` : days < 14 ? 'last week' : `${Math.round(days / 7)} weeks ago`;
  const p = Math.round(Math.abs(g.changeVsLast) * 100);
  return p === 0 ? `the same as ${when}` : `${p}% ${g.changeVsLast < 0 ? 'slower' : 'faster'} than ${when}`;
}

export function formatBench(result: BenchRunOutput): string {
  const rows = result.gpus.map((g) => [
    `${g.index ?? dash}${g.inContainer ? ' (container)' : ''}`,
    g.name,
    num(g.fp32Tflops),
    num(g.fp16Tflops),
    num(g.bf16Tflops),
    num(g.memoryBandwidthGBps, 0),
    `${num(g.hostToDeviceGBps)} / ${num(g.deviceToHostGBps)}`,
    g.score === null ? dash : g.score.toFixed(1),
    pct(g.specRatio),
    g.throttled ? 'yes' : 'no',
  ]);
  let out = formatTable(['GPU', 'NAME', 'FP32 TF', 'FP16 TF', 'BF16 TF', 'MEM GB/s', 'H2D / D2H GB/s', 'SCORE', 'OF SPEC', 'THROTTLED'], rows);
  for (const g of result.gpus) {
    const lines = [g.error, ...g.errors, ...g.flags, changeSentence(g) ? `Score ${changeSentence(g)}.` : null].filter((l): l is string => !!l);
    if (lines.length) out += `\nGPU ${g.index ?? dash}${g.inContainer ? ' in the container' : ''}:\n${lines.map((l) => `  - ${l}`).join('\n')}\n`;
  }
  if (result.passthrough) out += `\n${result.passthrough.message}\n`;
  return out;
}

export function formatHistory(entries: BenchHistoryEntry[]): string {
  if (!entries.length) return 'No benchmark yet: run `offshift bench run`.\n';
  return formatTable(
    ['WHEN', 'GPU', 'NAME', 'BACKEND', 'SCORE', 'OF SPEC', 'MACHINE', 'DRIVER', 'NOTE'],
    entries.map((e) => [
      new Date(e.result.measuredAt).toISOString().replace('T', ' ').slice(0, 16),
      e.result.gpuKey,
      e.result.name,
      `${e.result.backend}${e.result.quick ? ' quick' : ''}${e.result.inContainer ? ' container' : ''}`,
      e.result.score === null ? dash : e.result.score.toFixed(1),
      pct(e.result.specRatio),
      e.machine,
      e.driverVersion ?? dash,
      e.result.error ? 'failed' : e.result.throttled ? 'throttled' : '',
    ]),
  );
}

export const benchRunCommand: CliCommand = {
  name: 'bench run',
  summary: 'Benchmark the NVIDIA GPUs (CUDA): FP32, tensor cores, memory, PCIe; score and spec ratio.',
  usage: 'bench run [--gpu INDEX|UUID] [--quick] [--in-container] [--json]   |   bench run --from RECORDED.json [--json] (a recorded program output, not stored)',
  booleanFlags: ['quick', 'in-container'],
  async run(args, io) {
    const from = option(args, 'from');
    if (from !== undefined) {
      let text: string;
      try {
        text = readSmallFile(from, 1024 * 1024);
      } catch (error) {
        throw new AppError('usage', `Cannot read ${from}: ${(error as Error).message}.`);
      }
      let recorded: BenchRunOutput;
      try {
        recorded = resultsFromRecorded(text, Date.now());
      } catch (error) {
        // The parser speaks of a program it ran; here the report is a file.
        const why = (error as Error).message.replace(/^The benchmark program's (output|report)/, 'its content').replace(/[;.] (it may have been cut short\. )?(Run it by hand|Rebuild it).*$/, '');
        throw new AppError('usage', `${from} is not a recorded offshift-bench report: ${why}. Give the file resources/bench/compare.py wrote (<card>_driver<version>_full.recorded.json).`);
      }
      io.stdout(args.flags.has('json') ? JSON.stringify(benchJson(recorded), null, 2) + '\n' : formatBench(recorded));
      return recorded.gpus.some((g) => g.error) ? 1 : 0;
    }
    const input = { gpu: option(args, 'gpu'), quick: args.flags.has('quick'), inContainer: args.flags.has('in-container') };
    const result = await withBench(
      io,
      (c) => c.call('bench.run', input),
      (b) => {
        if (input.inContainer) throw new AppError('bench-no-agent', '--in-container runs the benchmark as a job through the agent\'s runner: start the agent (offshift agent) and run this again.');
        return b.run(input);
      },
      true,
    );
    io.stdout(args.flags.has('json') ? JSON.stringify(benchJson(result), null, 2) + '\n' : formatBench(result));
    return result.gpus.some((g) => g.error) ? 1 : 0;
  },
};

export const benchHistoryCommand: CliCommand = {
  name: 'bench history',
  summary: 'Stored benchmark results, newest first.',
  usage: 'bench history [--gpu KEY] [--limit N] [--json]',
  async run(args, io) {
    const input = { gpuKey: option(args, 'gpu'), limit: numberOption(args, 'limit') };
    if (input.limit !== undefined && (!Number.isInteger(input.limit) || input.limit < 1 || input.limit > 1000)) throw new AppError('usage', '--limit is a whole number from 1 to 1000.');
    const entries = await withBench(
      io,
      async (c) => (await c.call('bench.history', input)).entries,
      async (b) => b.history(input),
    );
    io.stdout(args.flags.has('json') ? JSON.stringify({ entries }, null, 2) + '\n' : formatHistory(entries));
    return 0;
  },
};

export const benchSelfTestCommand: CliCommand = {
  name: 'bench self-test',
  summary: 'Ready to earn? Driver, VRAM, host memory, disk, PCIe, Docker and GPU passthrough, benchmark vs spec.',
  usage: 'bench self-test [--json]   (exit code 0 when ready, 1 when an item fails)',
  async run(args, io) {
    const result: SelfTest = await withBench(
      io,
      (c) => c.call('bench.selfTest'),
      (b) => b.selfTest(),
    );
    io.stdout(args.flags.has('json') ? JSON.stringify(result, null, 2) + '\n' : formatCheck(result));
    return result.ready ? 0 : 1;
  },
};

export const benchCommands: CliCommand[] = [benchRunCommand, benchHistoryCommand, benchSelfTestCommand];
