/** One GPU: its specs and live charts of utilization, temperature, power and memory. */
import type { ReactNode } from 'react';
import type { Gpu, TelemetrySample } from '../../../runtime/gpu/schema.js';
import { LineChart } from '../components/LineChart.js';
import { formatMemory, formatNumber, formatReading, VENDOR_LABELS } from '../lib/format.js';
import { METRICS, seriesOf } from '../lib/metrics.js';

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
  const memoryTotal = latest?.memoryTotalMiB ?? gpu.memoryTotalMiB;

  return (
    <article className="card gpu-card" data-testid="gpu-card" data-gpu-index={gpu.index} aria-labelledby={`gpu-${gpu.index}-name`}>
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

      <dl className="specs">
        <Spec term="Memory" value={gpu.memoryTotalMiB === null ? 'Unknown' : `${formatMemory(gpu.memoryTotalMiB)} (${formatNumber(gpu.memoryTotalMiB)} MiB)`} />
        <Spec term="Driver" value={gpu.driverVersion ?? 'Unknown'} />
        <Spec term="CUDA" value={gpu.cudaVersion ?? (gpu.vendor === 'nvidia' ? 'Unknown' : 'Not applicable')} />
        <Spec term="PCI bus" value={gpu.pciBusId ?? 'Unknown'} mono />
        <Spec term="Power limit" value={formatReading(gpu.powerLimitW, 'W')} />
        <Spec term="MIG" value={gpu.migMode === null ? 'Not supported' : gpu.migMode === 'enabled' ? `Enabled — ${gpu.migDevices.length} slice${gpu.migDevices.length === 1 ? '' : 's'}` : 'Disabled'} />
      </dl>

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
      {latest ? (
        <div className="gpu-extra muted">
          SM clock {formatReading(latest.smClockMHz, 'MHz')} · Fan {formatReading(latest.fanPct, '%')}
        </div>
      ) : null}

      {gpu.migDevices.length > 0 ? (
        <section className="subsection">
          <h3>MIG slices</h3>
          <table className="table" data-testid="mig-table">
            <thead>
              <tr>
                <th>Instance</th>
                <th className="num">Memory</th>
                <th className="num">Multiprocessors</th>
              </tr>
            </thead>
            <tbody>
              {gpu.migDevices.map((m) => (
                <tr key={m.gpuInstanceId}>
                  <td>GI {m.gpuInstanceId}</td>
                  <td className="num">{formatMemory(m.memoryTotalMiB)}</td>
                  <td className="num">{m.multiprocessorCount ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}

      {bench}

      <section className="subsection">
        <h3>Processes</h3>
        {gpu.processes.length === 0 ? (
          <p className="muted small">No process is using this GPU.</p>
        ) : (
          <table className="table" data-testid="process-table">
            <thead>
              <tr>
                <th>PID</th>
                <th>Name</th>
                <th className="num">Memory</th>
              </tr>
            </thead>
            <tbody>
              {gpu.processes.map((p) => (
                <tr key={`${p.pid}-${p.name}`}>
                  <td className="mono">{p.pid}</td>
                  <td className="truncate" title={p.name}>
                    {p.name}
                  </td>
                  <td className="num">{p.usedMemoryMiB === null ? '—' : `${formatNumber(p.usedMemoryMiB)} MiB`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </article>
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
