/** A GPU's score over its stored runs (oldest left), as a small SVG line with dots. */
import type { BenchGpuResult } from '../../../runtime/bench/schema.js';

const W = 300;
const H = 70;
const PAD = 8;

export function ScoreChart({ results, testId }: { results: readonly BenchGpuResult[]; testId: string }) {
  const scored = results.filter((r) => r.score !== null).sort((a, b) => a.measuredAt - b.measuredAt);
  if (scored.length < 2) return null;
  const scores = scored.map((r) => r.score!);
  const lo = Math.min(...scores) * 0.95;
  const hi = Math.max(...scores) * 1.05 || 1;
  const x = (i: number) => PAD + (i * (W - 2 * PAD)) / (scored.length - 1);
  const y = (s: number) => H - PAD - ((s - lo) / (hi - lo || 1)) * (H - 2 * PAD);
  const path = scored.map((r, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(r.score!).toFixed(1)}`).join(' ');
  return (
    <figure className="bench-chart" data-testid={testId}>
      <figcaption className="muted small">
        Score over {scored.length} runs ({new Date(scored[0]!.measuredAt).toLocaleDateString()} – {new Date(scored[scored.length - 1]!.measuredAt).toLocaleDateString()})
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Score history: ${scores.map((s) => s.toFixed(1)).join(', ')}`}>
        <path d={path} fill="none" stroke="var(--accent)" strokeWidth="2" />
        {scored.map((r, i) => (
          <circle key={`${r.measuredAt}-${i}`} cx={x(i)} cy={y(r.score!)} r="3" fill={r.throttled ? 'var(--warn)' : 'var(--accent)'}>
            <title>{`${new Date(r.measuredAt).toLocaleString()}: ${r.score!.toFixed(1)}${r.throttled ? ' (throttled)' : ''}`}</title>
          </circle>
        ))}
      </svg>
    </figure>
  );
}
