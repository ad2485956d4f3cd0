/** One benchmark result as a person reads it: score, spec ratio, figures, flags, change since the last run. */
import type { BenchGpuResult } from '../../../runtime/bench/schema.js';

const fig = (v: number | null, unit: string, digits = 1) => (v === null ? '—' : `${v.toFixed(v < 1 ? 3 : digits)} ${unit}`);

export function changeText(r: BenchGpuResult): string | null {
  if (r.changeVsLast === null || r.previousAt === null) return null;
  const days = Math.round((r.measuredAt - r.previousAt) / 86_400_000);
  const when = days <= 0 ? 'earlier today' : days === 1 ? 'yesterday' : days < 7 ? `${days} days ago` : days < 14 ? 'last week' : `${Math.round(days / 7)} weeks ago`;
  const p = Math.round(Math.abs(r.changeVsLast) * 100);
  return p === 0 ? `The same as ${when}` : `${p}% ${r.changeVsLast < 0 ? 'slower' : 'faster'} than ${when}`;
}

export function BenchResult({ result, testId }: { result: BenchGpuResult; testId: string }) {
  const change = changeText(result);
  return (
    <div className="bench-result" data-testid={testId} data-backend={result.backend}>
      <div className="bench-headline">
        <div className="bench-score">
          <span className="bench-score-value" data-testid="bench-score">
            {result.score === null ? '—' : result.score.toFixed(1)}
          </span>
          <span className="muted small">score</span>
        </div>
        <div className="bench-ratio">
          {result.specRatio !== null ? (
            <span data-testid="bench-spec-ratio">Measured at {Math.round(result.specRatio * 100)}% of this card’s specification</span>
          ) : (
            <span className="muted">{result.specName ? 'No spec ratio for this run' : result.adapter ? 'No specification applies to this adapter' : 'No specification on file for this card'}</span>
          )}
          <span className="muted small">
            {result.backend === 'webgpu' ? `WebGPU on ${result.adapter ?? 'an unknown adapter'}` : `CUDA${result.quick ? ' (quick)' : ''}${result.inContainer ? ', in the job container' : ''}`} ·{' '}
            {new Date(result.measuredAt).toLocaleString()}
            {change ? ` · ${change}` : ''}
          </span>
        </div>
      </div>
      <dl className="specs bench-figures">
        <div className="spec">
          <dt>FP32</dt>
          <dd>{fig(result.fp32Tflops, 'TFLOP/s')}</dd>
        </div>
        <div className="spec">
          <dt>FP16{result.backend === 'cuda' ? ' tensor' : ''}</dt>
          <dd>{fig(result.fp16Tflops, 'TFLOP/s')}</dd>
        </div>
        {result.backend === 'cuda' ? (
          <div className="spec">
            <dt>BF16 tensor</dt>
            <dd>{fig(result.bf16Tflops, 'TFLOP/s')}</dd>
          </div>
        ) : null}
        <div className="spec">
          <dt>Memory</dt>
          <dd>{fig(result.memoryBandwidthGBps, 'GB/s', 0)}</dd>
        </div>
        {result.backend === 'cuda' ? (
          <div className="spec">
            <dt>PCIe to / from GPU</dt>
            <dd>
              {fig(result.hostToDeviceGBps, '')}/ {fig(result.deviceToHostGBps, 'GB/s')}
            </dd>
          </div>
        ) : null}
        <div className="spec">
          <dt>Throttling</dt>
          <dd>{result.throttled ? 'Yes' : 'No'}</dd>
        </div>
      </dl>
      {[result.error, ...result.errors, ...result.flags].filter(Boolean).length ? (
        <ul className="bench-flags">
          {[result.error, ...result.errors, ...result.flags]
            .filter((x): x is string => !!x)
            .map((f) => (
              <li key={f}>{f}</li>
            ))}
        </ul>
      ) : null}
    </div>
  );
}
