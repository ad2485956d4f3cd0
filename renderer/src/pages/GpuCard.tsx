/** One GPU: its specs and live charts of utilization, temperature, power and memory. */
import type { ReactNode } from 'react';
import type { Gpu, TelemetrySample } from '../../../runtime/gpu/schema.js';
import { LineChart } from '../components/LineChart.js';
import { formatMemory, formatNumber, formatReading, VENDOR_LABELS } from '../lib/format.js';
import { METRICS, seriesOf } from '../lib/metrics.js';
import { GpuProcesses, MigSlices } from './GpuTables.js';

const EMPTY: readonly TelemetrySample[] = [];

export function GpuCard({
  gpu,
  samples,
  end,
  windowMs,
  bench,
}: {
  gpu: Gpu;
  samples: readonly TelemetrySample[] | undefined;
  end: number | null;
  windowMs: number;
  /** The benchmark section (score, spec ratio, history, Run benchmark). */
  bench?: ReactNode;
}) {
  const history = samples ?? EMPTY;
  const latest = history.length > 0 ? history[history.length - 1]! : null;

  return (
    <article className="card gpu-card" data-testid="gpu-card" data-gpu-index={gpu.index} aria-labelledby={`gpu-${gpu.index}-name`}>
      <GpuHead gpu={gpu} />
      <GpuSpecs gpu={gpu} />
      <GpuCharts gpu={gpu} history={history} latest={latest} end={end} windowMs={windowMs} />
      {latest ? (
        <div className="gpu-extra muted">
          SM clock {formatReading(latest.smClockMHz, 'MHz')} · Fan {formatReading(latest.fanPct, '%')}
        </div>
      ) : null}
      <MigSlices gpu={gpu} />
      {bench}
      <GpuProcesses gpu={gpu} />
    </article>
  );
}

function GpuHead({ gpu }: { gpu: Gpu }) {
  return (
    <header className="gpu-head">
      <div>
        <div className="gpu-kicker">
          <span className={`vendor vendor-${gpu.vendor}`}>{VENDOR_LABELS[gpu.vendor] ?? gpu.vendor}</span>
          <span>GPU {gpu.index}</span>
        </div>
        <h2 className="gpu-name" id={`gpu-${gpu.index}-name`} data-testid="gpu-name">
          {gpu.name}
        </h2>
        {gpu.uuid ? <div className="gpu-uuid mono">{gpu.uuid}</div> : null}
      </div>
      <div className="gpu-memory-big" data-testid="gpu-memory">
        {formatMemory(gpu.memoryTotalMiB)}
        <span className="muted">memory</span>
      </div>
    </header>
  );
}

function GpuSpecs({ gpu }: { gpu: Gpu }) {
  return (
    <dl className="specs">
      <Spec term="Memory" value={gpu.memoryTotalMiB === null ? 'Unknown' : `${formatMemory(gpu.memoryTotalMiB)} (${formatNumber(gpu.memoryTotalMiB)} MiB)`} />
      <Spec term="Driver" value={gpu.driverVersion ?? 'Unknown'} />
      <Spec term="CUDA" value={gpu.cudaVersion ?? (gpu.vendor === 'nvidia' ? 'Unknown' : 'Not applicable')} />
      <Spec term="PCI bus" value={gpu.pciBusId ?? 'Unknown'} mono />
      <Spec term="Power limit" value={formatReading(gpu.powerLimitW, 'W')} />
      <Spec term="MIG" value={gpu.migMode === null ? 'Not supported' : gpu.migMode === 'enabled' ? `Enabled — ${gpu.migDevices.length} slice${gpu.migDevices.length === 1 ? '' : 's'}` : 'Disabled'} />
    </dl>
  );
}

function GpuCharts({ gpu, history, latest, end, windowMs }: { gpu: Gpu; history: readonly TelemetrySample[]; latest: TelemetrySample | null; end: number | null; windowMs: number }) {
  const memoryTotal = latest?.memoryTotalMiB ?? gpu.memoryTotalMiB;
  return (
    <div className="charts">
      {METRICS.map((metric) => (
        <LineChart
          key={metric.id}
          testId={`chart-${metric.id}`}
          title={metric.title}
          unit={metric.unit}
          decimals={metric.decimals}
          format={metric.format}
          points={seriesOf(metric, history)}
          end={end}
          windowMs={windowMs}
          range={metric.range(gpu, latest)}
          suffix={metric.id === 'memory' && memoryTotal !== null ? `of ${formatMemory(memoryTotal)}` : metric.id === 'power' && gpu.powerLimitW !== null ? `of ${formatReading(gpu.powerLimitW, 'W')}` : undefined}
        />
      ))}
    </div>
  );
}

function Spec({ term, value, mono }: { term: string; value: string; mono?: boolean }) {
  return (
    <div className="spec">
      <dt>{term}</dt>
      <dd className={mono ? 'mono' : undefined}>{value}</dd>
    </div>
  );
}
