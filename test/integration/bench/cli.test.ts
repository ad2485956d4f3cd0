/**
 * `offshift bench run|history|self-test` end to end: the built CLI as a separate process, a fake
 * nvidia-smi printing a real capture (RTX 3090, driver 525) and, in place of the GPU, a stand-in
 * for offshift-bench that prints a fixture (test/fixtures/bench, synthetic documents in the
 * program's exact form) or hangs. Real SQLite history in a temp data folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = path.join(root, 'dist', 'runtime', 'cli.js');
const fixtures = path.join(root, 'test', 'fixtures', 'bench');
const temp = makeTempHome('offshift-bench-cli-');
let fake: FakeGpuTools;

beforeAll(() => {
  execFileSync('npm', ['run', '-s', 'build:node'], { cwd: root, stdio: 'pipe' });
  fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_rtx3090_driver525.147.05.xml' });
}, 120_000);
afterAll(() => {
  fake?.cleanup();
  temp.cleanup();
});

/** A stand-in program: prints a fixture (and records its environment), or hangs. */
function program(name: string, body: string): string {
  const file = path.join(temp.home, `${name}.sh`);
  fs.writeFileSync(file, `#!/bin/sh\necho "$CUDA_VISIBLE_DEVICES $*" >> "${temp.home}/${name}.calls"\n${body}\n`, { mode: 0o755 });
  return file;
}
const printing = (fixture: string) => program(fixture.replace(/\W/g, '_'), `cat "${path.join(fixtures, fixture)}"`);

function run(args: string[], env: Record<string, string> = {}) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [cli, ...args], {
    env: { ...fake.env(process.env), OFFSHIFT_HOME: temp.home, OFFSHIFT_BENCH_LOCAL: '1', OFFSHIFT_BENCH_QUIET: '1', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
}

describe('offshift bench run', () => {
  it('--json prints the issue’s form for the GPU, chosen by UUID, and stores it', () => {
    const prog = printing('rtx3090-full.synthetic.json');
    const { code, stdout } = run(['bench', 'run', '--quick', '--json'], { OFFSHIFT_BENCH_PROGRAM: prog });
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as { gpus: Record<string, unknown>[] };
    expect(out.gpus).toHaveLength(1);
    expect(out.gpus[0]).toMatchObject({
      index: 0,
      uuid: 'GPU-12345678-aaaa-bbbb-cccc-0123456789ab',
      name: 'NVIDIA GeForce RTX 3090',
      backend: 'cuda',
      fp32Tflops: 34.11,
      memoryBandwidthGBps: 822.5,
      hostToDeviceGBps: 24.61,
      throttled: false,
      specName: 'NVIDIA GeForce RTX 3090',
    });
    expect(Object.keys(out.gpus[0]!)).toEqual(expect.arrayContaining(['fp16Tflops', 'bf16Tflops', 'deviceToHostGBps', 'spread', 'score', 'specRatio', 'durationS']));
    expect(out.gpus[0]!.specRatio).toBeGreaterThan(0.9);
    // The program ran once, for that GPU only, in quick mode.
    expect(fs.readFileSync(`${prog.replace(/\.sh$/, '')}.calls`, 'utf8').trim()).toBe('GPU-12345678-aaaa-bbbb-cccc-0123456789ab --quick');

    const history = JSON.parse(run(['bench', 'history', '--json']).stdout) as { entries: { result: { score: number } }[] };
    expect(history.entries).toHaveLength(1);
    expect(history.entries[0]!.result.score).toBe((out.gpus[0] as { score: number }).score);
  });

  it('the table says how it compares with the last run', () => {
    const { code, stdout } = run(['bench', 'run', '--gpu', '0'], { OFFSHIFT_BENCH_PROGRAM: printing('rtx3090-throttled.synthetic.json') });
    expect(code).toBe(0);
    expect(stdout).toMatch(/SCORE/);
    expect(stdout).toMatch(/Likely throttling/);
    expect(stdout).toMatch(/Score (\d+% (slower|faster)|the same as) earlier today/);
  });

  it('a program that hangs is stopped at its time box and reported; the CLI exits', () => {
    const { code, stdout, ms } = run(['bench', 'run', '--json'], { OFFSHIFT_BENCH_PROGRAM: program('hang', 'sleep 60'), OFFSHIFT_BENCH_TIMEOUT_S: '2' });
    expect(code).toBe(1);
    expect(JSON.parse(stdout).gpus[0].error).toMatch(/did not finish within 2 s and was stopped/);
    expect(ms).toBeLessThan(20_000);
  });

  it('a GPU lost mid-run and a driver too old are clear results', () => {
    const lost = JSON.parse(run(['bench', 'run', '--json'], { OFFSHIFT_BENCH_PROGRAM: printing('gpu-lost.synthetic.json') }).stdout);
    expect(lost.gpus[0].error).toMatch(/cudaErrorLaunchFailure/);
    const old = JSON.parse(run(['bench', 'run', '--json'], { OFFSHIFT_BENCH_PROGRAM: printing('driver-too-old.synthetic.json') }).stdout);
    expect(old.gpus[0].error).toMatch(/driver is too old.*CUDA 12\.2/);
    const garbage = JSON.parse(run(['bench', 'run', '--json'], { OFFSHIFT_BENCH_PROGRAM: program('garbage', 'echo Segmentation fault >&2; exit 139') }).stdout);
    expect(garbage.gpus[0].error).toMatch(/printed nothing.*exit code 139: Segmentation fault/);
  });

  it('without the program, or with an unknown GPU, it says what to do', () => {
    const missing = run(['bench', 'run'], { OFFSHIFT_BENCH_PROGRAM: '' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not built: install the CUDA toolkit \(nvcc\) and run `npm run build`, or run the WebGPU benchmark/);
    const unknown = run(['bench', 'run', '--gpu', '7'], { OFFSHIFT_BENCH_PROGRAM: printing('rtx3090-full.synthetic.json') });
    expect(unknown.stderr).toMatch(/No NVIDIA GPU "7".*there are: 0 \(GPU-12345678/);
  });
});

describe('offshift bench run --from (a recorded output from a GPU machine)', () => {
  it('goes through the same rules without storing anything', () => {
    const before = JSON.parse(run(['bench', 'history', '--json']).stdout).entries.length;
    const { code, stdout } = run(['bench', 'run', '--from', path.join(fixtures, 'h200-over-peak.synthetic.json'), '--json']);
    expect(code).toBe(0);
    const g = JSON.parse(stdout).gpus[0];
    expect(g).toMatchObject({ name: 'NVIDIA H200', fp16Tflops: null, bf16Tflops: null, fp32Tflops: 64.9, specName: 'NVIDIA H200' });
    expect(g.errors).toHaveLength(2);
    expect(JSON.parse(run(['bench', 'history', '--json']).stdout).entries.length).toBe(before);
    expect(run(['bench', 'run', '--from', path.join(temp.home, 'missing.json')]).stderr).toMatch(/Cannot read .*missing\.json/);
    // A device that never ends: refused at once (it used to be read until memory ran out).
    expect(run(['bench', 'run', '--from', path.join(fixtures, 'SOURCES.md')])).toMatchObject({ code: 2, stderr: expect.stringMatching(/SOURCES\.md is not a recorded offshift-bench report: its content is not JSON/) });
    expect(run(['bench', 'run', '--from', '/dev/zero'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Cannot read /dev/zero: it is not a regular file') });
  });
});

describe('offshift bench self-test', () => {
  it('gives a verdict per item and exits 1 when one fails', () => {
    const { code, stdout } = run(['bench', 'self-test', '--json']);
    const t = JSON.parse(stdout) as { ready: boolean; items: { id: string; status: string; message: string }[] };
    expect(t.items.map((i) => i.id)).toContain('pcie');
    // The newest host run measured 24.6 GB/s host-to-device (the throttled fixture): above the floor.
    expect(t.items.find((i) => i.id === 'driver-version')).toMatchObject({ status: 'warn' });
    expect(code).toBe(t.ready ? 0 : 1);
  });
});
