/**
 * The WebGPU benchmark, for any GPU (AMD, Intel, Apple, NVIDIA without CUDA): a tiled FP32
 * matrix product (FP16 too where the adapter has `shader-f16`) and a copy bandwidth test, each
 * the median of timed runs after a warm-up, each result checked against a reference computed
 * here on the CPU. Runs in the dashboard (Electron window or a browser on a headless agent);
 * the result goes to the agent (`bench.submitWebgpu`), which scores and stores it.
 */
import type { WebgpuSubmitInput } from '../../../runtime/bench/schema.js';
import { BufferUsage, MapMode, webgpu, type WgpuAdapter, type WgpuBuffer, type WgpuDevice } from './webgpu-types.js';

export type WebgpuResult = Omit<WebgpuSubmitInput, 'gpuIndex'>;
export interface WebgpuProgress {
  fraction: number;
  message: string;
}

const TILE = 16;
const RUNS = 5;

const matmulShader = (t: 'f32' | 'f16') => `
${t === 'f16' ? 'enable f16;' : ''}
struct Dims { n: u32 };
@group(0) @binding(0) var<storage, read> a: array<${t}>;
@group(0) @binding(1) var<storage, read> b: array<${t}>;
@group(0) @binding(2) var<storage, read_write> c: array<${t}>;
@group(0) @binding(3) var<uniform> dims: Dims;
var<workgroup> ta: array<array<${t}, ${TILE}>, ${TILE}>;
var<workgroup> tb: array<array<${t}, ${TILE}>, ${TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let n = dims.n;
  var acc: ${t} = ${t}(0);
  for (var k0: u32 = 0u; k0 < n; k0 = k0 + ${TILE}u) {
    ta[l.y][l.x] = a[g.y * n + k0 + l.x];
    tb[l.y][l.x] = b[(k0 + l.y) * n + g.x];
    workgroupBarrier();
    for (var k: u32 = 0u; k < ${TILE}u; k = k + 1u) { acc = acc + ta[l.y][k] * tb[k][l.x]; }
    workgroupBarrier();
  }
  c[g.y * n + g.x] = acc;
}`;

const copyShader = `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) w: vec3<u32>) {
  let i = g.x + g.y * w.x * 256u;
  if (i < arrayLength(&src)) { dst[i] = src[i]; }
}`;

function summarise(runs: number[]): { median: number; spread: number } {
  const s = [...runs].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, spread: median > 0 ? (s[s.length - 1]! - s[0]!) / median : 0 };
}

/** float32 → IEEE half bits (inputs here are small integers: exact). */
function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = (u >>> 13) & 0x3ff;
  if (x === 0) return sign;
  return sign | (exp << 10) | mant;
}
function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

async function readBack(device: WgpuDevice, buffer: WgpuBuffer, size: number): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, 0, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MapMode.READ);
  const copy = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return copy;
}

/** Times `reps` dispatches; calibrates reps so a run lasts about targetMs. */
async function timeRuns(device: WgpuDevice, dispatch: (reps: number) => void, targetMs: number, workPerRep: number, scale: number, onRun: () => void): Promise<number[]> {
  const once = async (reps: number) => {
    const t0 = performance.now();
    dispatch(reps);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await once(1); // warm-up: pipelines compiled, clocks up
  const one = Math.max(0.05, await once(1));
  const reps = Math.max(1, Math.min(500, Math.round(targetMs / one)));
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const ms = await once(reps);
    runs.push((workPerRep * reps) / (ms / 1000) / scale);
    onRun();
  }
  return runs;
}

async function matmul(device: WgpuDevice, type: 'f32' | 'f16', n: number, targetMs: number, onRun: () => void): Promise<number[]> {
  const count = n * n;
  const bytesPer = type === 'f16' ? 2 : 4;
  // Small integers: every product and sum is exact in f32 and (n ≤ 512, |x| ≤ 1) in f16.
  const av = Array.from({ length: count }, (_, i) => ((i * 7) % 3) - 1);
  const bv = Array.from({ length: count }, (_, i) => ((i * 5 + 1) % 3) - 1);
  const pack = (v: number[]) => (type === 'f16' ? new Uint16Array(v.map(toHalf)) : new Float32Array(v));
  const usage = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;
  const a = device.createBuffer({ size: count * bytesPer, usage });
  const b = device.createBuffer({ size: count * bytesPer, usage });
  const c = device.createBuffer({ size: count * bytesPer, usage });
  const dims = device.createBuffer({ size: 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
  device.queue.writeBuffer(a, 0, pack(av));
  device.queue.writeBuffer(b, 0, pack(bv));
  device.queue.writeBuffer(dims, 0, new Uint32Array([n, 0, 0, 0]));
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: matmulShader(type) }), entryPoint: 'main' } });
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [a, b, c, dims].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  try {
    const runs = await timeRuns(
      device,
      (reps) => {
        const enc = device.createCommandEncoder();
        for (let r = 0; r < reps; r++) {
          const pass = enc.beginComputePass();
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(n / TILE, n / TILE);
          pass.end();
        }
        device.queue.submit([enc.finish()]);
      },
      targetMs,
      2 * n * n * n,
      1e12,
      onRun,
    );
    const raw = await readBack(device, c, count * bytesPer);
    const out = type === 'f16' ? Array.from(new Uint16Array(raw), fromHalf) : Array.from(new Float32Array(raw));
    for (let s = 0; s < 64; s++) {
      const i = (s * 104729) % n;
      const j = (s * 7919) % n;
      let want = 0;
      for (let k = 0; k < n; k++) want += av[i * n + k]! * bv[k * n + j]!;
      if (out[i * n + j] !== want) throw new Error(`the ${type.toUpperCase()} matrix product computed ${out[i * n + j]} where ${want} is right: the adapter's result is wrong, so no figure is reported`);
    }
    return runs;
  } finally {
    [a, b, c, dims].forEach((x) => x.destroy());
  }
}

async function bandwidth(device: WgpuDevice, bytes: number, targetMs: number, onRun: () => void): Promise<number[]> {
  const words = bytes / 4;
  const data = new Float32Array(words);
  for (let i = 0; i < words; i++) data[i] = (i % 65_521) + 0.5;
  const src = device.createBuffer({ size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
  const dst = device.createBuffer({ size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
  device.queue.writeBuffer(src, 0, data);
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: copyShader }), entryPoint: 'main' } });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [src, dst].map((buffer, binding) => ({ binding, resource: { buffer } })) });
  const groups = Math.ceil(bytes / 16 / 256);
  const x = Math.min(groups, 65_535);
  const y = Math.ceil(groups / x);
  try {
    const runs = await timeRuns(
      device,
      (reps) => {
        const enc = device.createCommandEncoder();
        for (let r = 0; r < reps; r++) {
          const pass = enc.beginComputePass();
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(x, y);
          pass.end();
        }
        device.queue.submit([enc.finish()]);
      },
      targetMs,
      2 * bytes,
      1e9,
      onRun,
    );
    const out = new Float32Array(await readBack(device, dst, bytes));
    for (let s = 0; s < 256; s++) {
      const i = (s * 2_654_435) % words;
      if (out[i] !== data[i]) throw new Error('the copy test read back different data than it wrote: the adapter is not working correctly, so no figure is reported');
    }
    return runs;
  } finally {
    src.destroy();
    dst.destroy();
  }
}

async function adapterInfo(adapter: WgpuAdapter): Promise<WebgpuSubmitInput['adapter']> {
  const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
  const clip = (s: string | undefined, max: number) => (s ?? '').slice(0, max);
  return {
    vendor: clip(info.vendor, 100),
    architecture: clip(info.architecture, 100),
    device: clip(info.device, 100),
    description: clip(info.description, 200),
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
}

/** Runs the whole benchmark (a few seconds on a GPU, up to about a minute on a software adapter). */
export async function runWebgpuBench(onProgress: (p: WebgpuProgress) => void): Promise<WebgpuResult> {
  const gpu = webgpu();
  if (!gpu) throw new Error('This window has no WebGPU (navigator.gpu is missing): use a current Chrome, Edge or the Offshift app, or run the CUDA benchmark on an NVIDIA card.');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('WebGPU found no adapter: the GPU driver or the browser blocks it (chrome://gpu says why).');
  const hasF16 = adapter.features.has('shader-f16');
  const device = await adapter.requestDevice({ requiredFeatures: hasF16 ? ['shader-f16'] : [] });
  let lost: string | null = null;
  void device.lost.then((l) => {
    lost = l.message || l.reason;
  });
  const started = performance.now();
  const info = await adapterInfo(adapter);
  const software = info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
  // A software adapter runs on the CPU: smaller problems so the run stays within a minute.
  const n = software ? 256 : 1024;
  const bytes = Math.min(software ? 16 << 20 : 256 << 20, adapter.limits.maxStorageBufferBindingSize, adapter.limits.maxBufferSize);
  const targetMs = software ? 150 : 200;
  const total = RUNS * (hasF16 ? 3 : 2);
  let done = 0;
  const tick = (message: string) => () => onProgress({ fraction: Math.min(1, ++done / total), message });
  try {
    device.pushErrorScope('validation');
    onProgress({ fraction: 0, message: 'FP32 matrix product…' });
    const fp32 = await matmul(device, 'f32', n, targetMs, tick('FP32 matrix product…'));
    let fp16: number[] = [];
    if (hasF16) {
      onProgress({ fraction: done / total, message: 'FP16 matrix product…' });
      fp16 = await matmul(device, 'f16', Math.min(n, 512), targetMs, tick('FP16 matrix product…'));
    }
    onProgress({ fraction: done / total, message: 'Memory bandwidth…' });
    const mem = await bandwidth(device, bytes - (bytes % 4096), targetMs, tick('Memory bandwidth…'));
    const error = await device.popErrorScope();
    if (error) throw new Error(`WebGPU refused the benchmark: ${error.message}`);
    if (lost) throw new Error(`The GPU was lost during the benchmark (${lost}): run it again.`);
    const f = summarise(fp32);
    const h = fp16.length ? summarise(fp16) : null;
    const m = summarise(mem);
    return {
      adapter: info,
      fp32Tflops: f.median,
      fp16Tflops: h?.median ?? null,
      memoryBandwidthGBps: m.median,
      spread: { fp32: f.spread, fp16: h?.spread ?? null, memoryBandwidth: m.spread },
      runs: { fp32, fp16, memoryBandwidth: mem },
      durationS: (performance.now() - started) / 1000,
    };
  } catch (error) {
    if (lost) throw new Error(`The GPU was lost during the benchmark (${lost}): run it again.`, { cause: error });
    throw error;
  } finally {
    device.destroy();
  }
}
