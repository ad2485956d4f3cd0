/**
 * Fake `nvidia-smi` and `rocm-smi` executables that print real captures (test/fixtures/gpu),
 * for end-to-end tests on machines without a GPU. Put `binDir` first on PATH (use `env()`):
 *
 *   const fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' });
 *   spawn('node', ['dist/runtime/cli.js', 'agent', '--port', '0'], { env: fake.env(process.env) });
 *   …
 *   fake.cleanup();
 *
 * What the fake nvidia-smi answers (anything else fails like the real tool: "Invalid combination
 * of input arguments. Please run 'nvidia-smi -h' for help.", exit code 2):
 * - `-q -x`: the XML capture, byte for byte;
 * - `-L`: one "GPU i: name (UUID: …)" line per GPU of the capture;
 * - `--query-gpu=<fields> --format=csv[,noheader][,nounits] [-lms N | -l S]`, where every field
 *   is one of index, uuid, name, utilization.gpu, memory.used, memory.total, temperature.gpu,
 *   power.draw, power.limit, clocks.sm, fan.speed, driver_version, pci.bus_id: rows derived from
 *   the capture (utilization, temperature, power and clock wobble a little so charts move); with
 *   -lms/-l it prints a batch every interval until killed.
 * The fake rocm-smi prints the JSON capture for any call that has `--json`, and fails otherwise.
 * `nvidiaFail` makes every nvidia-smi call fail like a machine whose driver is not loaded.
 * Each call is appended to `<binDir>/calls.log` (see `calls()`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from './temp-home.js';

export const GPU_FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'gpu');

/** Absolute path of a capture: a file name in test/fixtures/gpu, or a path. */
export function gpuFixture(nameOrPath: string): string {
  const candidate = path.isAbsolute(nameOrPath) ? nameOrPath : path.join(GPU_FIXTURES_DIR, nameOrPath);
  if (!fs.existsSync(candidate)) throw new Error(`GPU capture not found: ${candidate}`);
  return candidate;
}

/** Every capture of one kind in test/fixtures/gpu. */
export function gpuFixtures(kind: 'nvidia-xml' | 'rocm-json'): string[] {
  const prefix = kind === 'nvidia-xml' ? 'nvidia-smi-q-x_' : 'rocm-smi-json_';
  return fs.readdirSync(GPU_FIXTURES_DIR).filter((f) => f.startsWith(prefix)).sort();
}

export interface FakeGpuToolsOptions {
  /** An `nvidia-smi -q -x` capture (file name in test/fixtures/gpu or a path). No fake nvidia-smi without it. */
  nvidiaXml?: string;
  /** A `rocm-smi --json` capture. No fake rocm-smi without it. */
  rocmJson?: string;
  /** Every nvidia-smi call prints this and exits with this code (default: the "driver not loaded" failure, 9). */
  nvidiaFail?: { message?: string; exitCode?: number };
}

export interface FakeCall {
  tool: 'nvidia-smi' | 'rocm-smi';
  args: string[];
  pid: number;
}

export interface FakeGpuTools {
  binDir: string;
  /** `base` (default process.env) with binDir first on PATH. */
  env(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Every call made so far, oldest first. */
  calls(): FakeCall[];
  cleanup(): void;
}

const NVIDIA_SCRIPT = String.raw`
const fs = require('node:fs');
const path = require('node:path');
const config = __CONFIG__;
const args = process.argv.slice(2);
fs.appendFileSync(path.join(__dirname, 'calls.log'), JSON.stringify({ tool: 'nvidia-smi', args, pid: process.pid }) + '\n');
process.stdout.on('error', () => process.exit(0));
const invalid = () => {
  process.stdout.write("Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n\n");
  process.exit(2);
};
if (config.fail) {
  process.stdout.write(config.fail.message + '\n');
  process.exit(config.fail.exitCode);
}
const xml = fs.readFileSync(config.xml, 'utf8');
const tag = (block, name) => {
  const m = new RegExp('<' + name + '>([^<]*)</' + name + '>').exec(block);
  return m ? m[1].trim() : null;
};
const section = (block, name) => {
  const m = new RegExp('<' + name + '>([\\s\\S]*?)</' + name + '>').exec(block);
  return m ? m[1] : '';
};
const gpus = [];
const re = /<gpu id="([^"]*)">([\s\S]*?)<\/gpu>/g;
let m;
while ((m = re.exec(xml))) {
  const body = m[2].replace(/<mig_devices>[\s\S]*?<\/mig_devices>/, '');
  const fb = section(body, 'fb_memory_usage');
  const power = section(body, 'gpu_power_readings') || section(body, 'power_readings');
  gpus.push({
    index: String(gpus.length),
    uuid: tag(body, 'uuid'),
    name: tag(body, 'product_name'),
    'utilization.gpu': tag(section(body, 'utilization'), 'gpu_util'),
    'memory.used': tag(fb, 'used'),
    'memory.total': tag(fb, 'total'),
    'temperature.gpu': tag(section(body, 'temperature'), 'gpu_temp'),
    'power.draw': tag(power, 'power_draw') || tag(power, 'instant_power_draw'),
    'power.limit': tag(power, 'power_limit') || tag(power, 'current_power_limit'),
    'clocks.sm': tag(section(body, 'clocks'), 'sm_clock'),
    'fan.speed': tag(body, 'fan_speed'),
    driver_version: tag(xml, 'driver_version'),
    'pci.bus_id': tag(section(body, 'pci'), 'pci_bus_id') || m[1],
  });
}
const WOBBLE = { 'utilization.gpu': [0, 100, 4], 'temperature.gpu': [0, 120, 1], 'power.draw': [0, 1000, 3], 'clocks.sm': [0, 5000, 15] };
const value = (gpu, field, units, tick) => {
  const raw = gpu[field];
  if (raw === null || raw === undefined) return '[N/A]';
  const num = /^(-?\d+(?:\.\d+)?)\s*(\S.*)?$/.exec(raw);
  if (!num) return /^(N\/A|Not Supported|Requested functionality has been deprecated)$/i.test(raw) ? '[' + raw + ']' : raw;
  let n = Number(num[1]);
  const w = WOBBLE[field];
  if (w && tick > 0) {
    n = Math.min(w[1], Math.max(w[0], n + (Math.random() * 2 - 1) * w[2]));
    n = field === 'power.draw' ? Math.round(n * 100) / 100 : Math.round(n);
  }
  const text = field === 'power.draw' || field === 'power.limit' ? n.toFixed(2) : String(n);
  return units && num[2] ? text + ' ' + num[2] : text;
};
if (args.length === 2 && args.includes('-q') && args.includes('-x')) {
  process.stdout.write(xml);
  process.exit(0);
}
if (args.length === 1 && args[0] === '-L') {
  for (const g of gpus) process.stdout.write('GPU ' + g.index + ': ' + g.name + ' (UUID: ' + g.uuid + ')\n');
  process.exit(0);
}
let fields = null, format = null, loopMs = null;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a.startsWith('--query-gpu=')) fields = a.slice(12).split(',');
  else if (a.startsWith('--format=')) format = a.slice(9).split(',');
  else if (a === '-lms' || a === '--loop-ms') loopMs = Number(args[++i]);
  else if (a.startsWith('--loop-ms=')) loopMs = Number(a.slice(10));
  else if (a === '-l' || a === '--loop') loopMs = Number(args[++i]) * 1000;
  else if (a.startsWith('--loop=')) loopMs = Number(a.slice(7)) * 1000;
  else invalid();
}
if (!fields || !format || !format.includes('csv')) invalid();
for (const f of fields) {
  if (!(f in (gpus[0] || { index: 0, uuid: 0, name: 0 })) && !['index', 'uuid', 'name'].includes(f)) {
    process.stdout.write('Field "' + f + '" is not a valid field to query.\n\n');
    process.stderr.write('(fake nvidia-smi: it only answers ' + Object.keys(gpus[0] || {}).join(',') + ')\n');
    process.exit(2);
  }
}
const header = !format.includes('noheader');
const units = !format.includes('nounits');
let tick = 0;
const batch = () => {
  let out = tick === 0 && header ? fields.join(', ') + '\n' : '';
  for (const g of gpus) out += fields.map((f) => value(g, f, units, tick)).join(', ') + '\n';
  tick++;
  process.stdout.write(out);
};
batch();
if (loopMs && Number.isFinite(loopMs) && loopMs > 0) setInterval(batch, loopMs);
`;

const ROCM_SCRIPT = String.raw`
const fs = require('node:fs');
const path = require('node:path');
const config = __CONFIG__;
const args = process.argv.slice(2);
fs.appendFileSync(path.join(__dirname, 'calls.log'), JSON.stringify({ tool: 'rocm-smi', args, pid: process.pid }) + '\n');
if (!args.includes('--json')) {
  process.stderr.write('fake rocm-smi: only --json output is available (capture ' + path.basename(config.json) + ')\n');
  process.exit(2);
}
process.stdout.write(fs.readFileSync(config.json, 'utf8'));
`;

function writeTool(binDir: string, name: string, script: string, config: unknown): void {
  const file = path.join(binDir, name);
  fs.writeFileSync(file, `#!${process.execPath}\n'use strict';\n${script.replace('__CONFIG__', JSON.stringify(config))}`, { mode: 0o755 });
}

export function makeFakeGpuTools(options: FakeGpuToolsOptions = {}): FakeGpuTools {
  const binDir = makeTempDir('offshift-fake-gpu-');
  fs.writeFileSync(path.join(binDir, 'calls.log'), '');
  if (options.nvidiaXml !== undefined || options.nvidiaFail) {
    const fail = options.nvidiaFail
      ? {
          message:
            options.nvidiaFail.message ??
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
          exitCode: options.nvidiaFail.exitCode ?? 9,
        }
      : null;
    writeTool(binDir, 'nvidia-smi', NVIDIA_SCRIPT, { xml: options.nvidiaXml ? gpuFixture(options.nvidiaXml) : null, fail });
  }
  if (options.rocmJson !== undefined) writeTool(binDir, 'rocm-smi', ROCM_SCRIPT, { json: gpuFixture(options.rocmJson) });
  return {
    binDir,
    env(base = process.env) {
      return { ...base, PATH: [binDir, base.PATH ?? ''].filter(Boolean).join(path.delimiter) };
    },
    calls() {
      const text = fs.existsSync(path.join(binDir, 'calls.log')) ? fs.readFileSync(path.join(binDir, 'calls.log'), 'utf8') : '';
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as FakeCall);
    },
    cleanup() {
      fs.rmSync(binDir, { recursive: true, force: true });
    },
  };
}
