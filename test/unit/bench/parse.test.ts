import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../runtime/errors.js';
import { MAX_PROGRAM_OUTPUT_BYTES, parseProgramOutput, programErrorMessage } from '../../../runtime/bench/parse.js';
import { BENCH_FIXTURES, benchFixture, benchFixtureText } from './helpers.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return { code: (error as AppError).code, message: (error as AppError).message };
  }
  throw new Error('expected a throw');
};

describe('parseProgramOutput', () => {
  it('reads every fixture the program prints (recorded and synthetic)', () => {
    const files = fs.readdirSync(BENCH_FIXTURES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const f of files) expect(parseProgramOutput(benchFixtureText(f)).program).toBe('offshift-bench');
  });

  it('keeps the figures, runs and spread of a full run', () => {
    const out = benchFixture('rtx3090-full.synthetic.json');
    const g = out.gpus[0]!;
    expect(g.name).toBe('NVIDIA GeForce RTX 3090');
    expect(g.figures.fp32?.median).toBe(34.11);
    expect(g.figures.fp32?.runs).toHaveLength(5);
    expect(g.figures.memoryBandwidth?.spread).toBeLessThan(0.03);
  });

  it('the recorded run on a machine without a driver is a top-level no-driver error', () => {
    const out = benchFixture('no-driver.recorded.json');
    expect(out.gpus).toEqual([]);
    expect(out.error?.code).toBe('no-driver');
    expect(programErrorMessage(out.error!, out.cudaDriver)).toMatch(/No NVIDIA driver.*WebGPU/);
  });

  it('a driver too old says which CUDA it supports and what to do', () => {
    const out = benchFixture('driver-too-old.synthetic.json');
    expect(programErrorMessage(out.error!, out.cudaDriver)).toMatch(/too old.*CUDA 12\.2.*Update the driver/);
  });

  it('empty, cut, foreign, oversized and wrong-version output are clear errors', () => {
    expect(codeOf(() => parseProgramOutput('')).message).toMatch(/printed nothing/);
    const full = benchFixtureText('rtx3090-full.synthetic.json');
    expect(codeOf(() => parseProgramOutput(full.slice(0, full.length / 2))).message).toMatch(/not JSON.*cut short/);
    expect(codeOf(() => parseProgramOutput('{"hello":1}')).message).toMatch(/not in the expected form/);
    expect(codeOf(() => parseProgramOutput(full.replace('"version": 1', '"version": 9'))).code).toBe('bench-output-invalid');
    expect(codeOf(() => parseProgramOutput(' '.repeat(MAX_PROGRAM_OUTPUT_BYTES + 1))).message).toMatch(/far more than its report/);
  });

  it('refuses hostile values: negative index, huge strings, non-numbers', () => {
    const doc = JSON.parse(benchFixtureText('rtx3090-full.synthetic.json'));
    doc.gpus[0].index = -1;
    expect(codeOf(() => parseProgramOutput(JSON.stringify(doc))).code).toBe('bench-output-invalid');
    doc.gpus[0].index = 0;
    doc.gpus[0].name = 'x'.repeat(10_000);
    expect(codeOf(() => parseProgramOutput(JSON.stringify(doc))).code).toBe('bench-output-invalid');
    doc.gpus[0].name = 'ok';
    doc.gpus[0].figures.fp32.median = '34';
    expect(codeOf(() => parseProgramOutput(JSON.stringify(doc))).code).toBe('bench-output-invalid');
  });
});

describe('findBenchProgram', () => {
  it('honours OFFSHIFT_BENCH_PROGRAM, and an empty one means "not built"', async () => {
    const { findBenchProgram } = await import('../../../runtime/bench/program.js');
    expect(findBenchProgram({ OFFSHIFT_BENCH_PROGRAM: '' })).toBeNull();
    expect(findBenchProgram({ OFFSHIFT_BENCH_PROGRAM: '/nonexistent/offshift-bench' })).toBeNull();
    expect(findBenchProgram({ OFFSHIFT_BENCH_PROGRAM: process.execPath })).toBe(process.execPath);
  });
  it('in a packaged app, runs the copy unpacked beside app.asar, never the one inside it', async () => {
    const path = await import('node:path');
    const { findBenchProgram, PROGRAM_NAME } = await import('../../../runtime/bench/program.js');
    const root = makeTempDir('offshift-asar-');
    try {
      for (const dir of ['app.asar', 'app.asar.unpacked']) {
        fs.mkdirSync(path.join(root, dir, 'dist', 'bench'), { recursive: true });
        fs.writeFileSync(path.join(root, dir, 'dist', 'bench', PROGRAM_NAME), '');
      }
      fs.mkdirSync(path.join(root, 'app.asar', 'dist', 'chunks'), { recursive: true });
      expect(findBenchProgram({}, path.join(root, 'app.asar', 'dist', 'chunks'))).toBe(path.join(root, 'app.asar.unpacked', 'dist', 'bench', PROGRAM_NAME));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
