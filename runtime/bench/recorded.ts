/**
 * A recorded offshift-bench output (from a GPU machine, resources/bench/compare.py) through the
 * same rules as a live run: `offshift bench run --from FILE`. Pure; nothing is stored.
 */
import { parseProgramOutput, programErrorMessage } from './parse.js';
import { resultFromProgram } from './results.js';
import type { BenchRunOutput } from './schema.js';

export function resultsFromRecorded(text: string, measuredAt: number): BenchRunOutput {
  const output = parseProgramOutput(text);
  if (output.error) {
    return {
      passthrough: null,
      gpus: [
        {
          ...resultFromProgram({ index: 0, figures: { fp32: null, fp16: null, bf16: null, memoryBandwidth: null, hostToDevice: null, deviceToHost: null }, durationS: null, error: null }, {
            gpu: null,
            samples: [],
            otherProcesses: [],
            quick: output.mode === 'quick',
            inContainer: false,
            measuredAt,
            previous: null,
          }),
          error: programErrorMessage(output.error, output.cudaDriver),
        },
      ],
    };
  }
  return {
    passthrough: null,
    gpus: output.gpus.map((g) => resultFromProgram(g, { gpu: null, samples: [], otherProcesses: [], quick: output.mode === 'quick', inContainer: false, measuredAt, previous: null })),
  };
}
