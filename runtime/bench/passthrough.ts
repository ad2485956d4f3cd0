/** GPU passthrough, proven by running the same benchmark on the host and in the job container. Pure. */
import type { BenchGpuResult, BenchRunOutput } from './schema.js';

/** The same program on the host and in the container: passthrough works when they agree. */
export function comparePassthrough(host: BenchGpuResult, inside: BenchGpuResult): NonNullable<BenchRunOutput['passthrough']> {
  if (inside.error) return { status: 'fail', message: `GPU passthrough failed: the benchmark could not run inside the job container. ${inside.error}` };
  if (host.error || host.fp32Tflops === null || inside.fp32Tflops === null) {
    return { status: 'warn', message: 'GPU passthrough: the container ran the benchmark, but the host run has no figure to compare with.' };
  }
  const pairs = (['fp32Tflops', 'memoryBandwidthGBps', 'hostToDeviceGBps'] as const)
    .map((k) => [k, host[k], inside[k]] as const)
    .filter((p): p is readonly [typeof p[0], number, number] => p[1] !== null && p[2] !== null);
  const worst = pairs.reduce((w, [, h, c]) => Math.min(w, c / h), 1);
  const pct = Math.round(worst * 100);
  return worst >= 0.9
    ? { status: 'pass', message: `GPU passthrough works: inside the job container the GPU measured within 10% of the host (lowest figure at ${pct}%).` }
    : { status: 'warn', message: `GPU passthrough works but the container measured ${pct}% of the host on one figure: check the container runtime's settings (MIG, CPU quota) and run again.` };
}
