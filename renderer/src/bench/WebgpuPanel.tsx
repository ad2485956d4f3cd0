/**
 * Benchmark through WebGPU, for any GPU: runs in this window on the adapter the browser gives
 * (which it names), sends the result to the agent, and shows the results of adapters that are
 * not one of the listed cards (a software adapter, a browser on another machine).
 */
import type { BenchGpuResult } from '../../../runtime/bench/schema.js';
import { BenchResult } from './BenchResult.js';
import { ScoreChart } from './ScoreChart.js';
import type { BenchState } from './useBench.js';

export function WebgpuPanel({ bench, results, connected, gpuIndex }: { bench: BenchState; results: readonly BenchGpuResult[]; connected: boolean; gpuIndex: number | null }) {
  const latest = results[0] ?? null;
  const w = bench.webgpu;
  return (
    <section className="card bench-webgpu" data-testid="bench-webgpu">
      <div className="bench-title">
        <div>
          <h2>WebGPU benchmark</h2>
          <p className="muted small">For any GPU (AMD, Intel, Apple, NVIDIA without CUDA): a matrix product and a bandwidth test run in this window, on the adapter the browser offers.</p>
        </div>
        <button type="button" className="button button-primary" data-testid="bench-run-webgpu" disabled={!connected || w.running || bench.running} onClick={() => void bench.runWebgpu(gpuIndex)}>
          {w.running ? 'Benchmarking…' : 'Run in this window'}
        </button>
      </div>
      {w.running && w.progress ? (
        <div className="bench-progress" data-testid="bench-webgpu-progress">
          <progress max={1} value={w.progress.fraction} aria-label="WebGPU benchmark progress" />
          <span className="muted small">{w.progress.message}</span>
        </div>
      ) : null}
      {w.error ? (
        <p className="bench-error" role="alert" data-testid="bench-webgpu-error">
          {w.error}
        </p>
      ) : null}
      {latest ? <BenchResult result={latest} testId="bench-webgpu-result" /> : null}
      <ScoreChart results={results} testId="bench-webgpu-chart" />
    </section>
  );
}
