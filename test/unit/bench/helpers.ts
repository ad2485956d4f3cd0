import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gpu } from '../../../runtime/gpu/schema.js';
import { parseProgramOutput } from '../../../runtime/bench/parse.js';
import type { ProgramOutput } from '../../../runtime/bench/schema.js';
import type { ResultContext } from '../../../runtime/bench/results.js';

export const BENCH_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'bench');

export function benchFixtureText(name: string): string {
  return fs.readFileSync(path.join(BENCH_FIXTURES, name), 'utf8');
}
export function benchFixture(name: string): ProgramOutput {
  return parseProgramOutput(benchFixtureText(name));
}

/** The RTX 3090 of test/fixtures/gpu/nvidia-smi-q-x_rtx3090_driver525.147.05.xml, as the inventory lists it. */
export const RTX3090: Gpu = {
  index: 0,
  uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab',
  vendor: 'nvidia',
  name: 'NVIDIA GeForce RTX 3090',
  memoryTotalMiB: 24576,
  driverVersion: '525.147.05',
  cudaVersion: '12.0',
  pciBusId: '00000000:01:00.0',
  migMode: null,
  migDevices: [],
  processes: [],
  temperatureC: 40,
  utilizationPct: 0,
  memoryUsedMiB: 1,
  powerDrawW: 30,
  powerLimitW: 350,
};

export function ctx(over: Partial<ResultContext> = {}): ResultContext {
  return { gpu: RTX3090, samples: [], otherProcesses: [], quick: false, inContainer: false, measuredAt: 1_700_000_000_000, previous: null, ...over };
}
