/** A GPU card's benchmark section: newest result, score history, Run benchmark with progress. */
import type { Gpu } from '../../../runtime/gpu/schema.js';
import type { BenchGpuResult } from '../../../runtime/bench/schema.js';
import { BenchResult } from './BenchResult.js';
import { ScoreChart } from './ScoreChart.js';
import type { BenchState } from './useBench.js';

export function GpuBench({ gpu, results, bench, connected }: { gpu: Gpu; results: readonly BenchGpuResult[]; bench: BenchState; connected: boolean }) {
  const latest = results[0] ?? null;
  const canCuda = gpu.vendor === 'nvidia';
  const busy = bench.running || bench.webgpu.running;
  return (
    <section className="subsection bench" data-testid="gpu-bench">
      <div className="bench-title">
        <h3>Benchmark</h3>
        {canCuda ? (
          <button type="button" className="button" data-testid="bench-run" disabled={!connected || busy} onClick={() => void bench.runCuda(gpu.index)}>
            {bench.running ? 'Benchmarking…' : 'Run benchmark'}
          </button>
        ) : (
          <button type="button" className="button" data-testid="bench-run-webgpu-card" disabled={!connected || busy} onClick={() => void bench.runWebgpu(gpu.index)}>
            {bench.webgpu.running ? 'Benchmarking…' : 'Run benchmark (WebGPU)'}
          </button>
        )}
      </div>
      {bench.running && bench.progress ? (
        <div className="bench-progress" data-testid="bench-progress">
          <progress max={1} value={bench.progress.fraction} aria-label="Benchmark progress" />
          <span className="muted small">{bench.progress.message}</span>
        </div>
      ) : null}
      {latest ? <BenchResult result={latest} testId="bench-latest" /> : <p className="muted small">Not benchmarked yet: the score and how close the card runs to its specification show here.</p>}
      <ScoreChart results={results} testId="bench-history-chart" />
    </section>
  );
}
