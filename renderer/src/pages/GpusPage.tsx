/** Every GPU of the machine: a card each with its specs, live charts and benchmark; the WebGPU benchmark for any GPU. */
import { useMemo, useState } from 'react';
import type { BenchGpuResult } from '../../../runtime/bench/schema.js';
import { GpuBench } from '../bench/GpuBench.js';
import { useBench } from '../bench/useBench.js';
import { WebgpuPanel } from '../bench/WebgpuPanel.js';
import '../bench/bench.css';
import { Icon } from '../components/icons.js';
import { ErrorBanner } from '../components/ErrorBanner.js';
import { hashFor } from '../lib/route.js';
import { refreshGpus } from '../store/session.js';
import { useDashboard } from '../store/dashboard-store.js';
import { newestTime } from '../store/telemetry-window.js';
import { GpuCard } from './GpuCard.js';

const RANGES = [
  { ms: 60_000, label: '1 min' },
  { ms: 5 * 60_000, label: '5 min' },
] as const;

export function GpusPage() {
  const gpus = useDashboard((s) => s.gpus);
  const gpusError = useDashboard((s) => s.gpusError);
  const loading = useDashboard((s) => s.gpusLoading);
  const telemetry = useDashboard((s) => s.telemetry);
  const telemetryStatus = useDashboard((s) => s.telemetryStatus);
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [windowMs, setWindowMs] = useState<number>(RANGES[0].ms);
  const end = newestTime(telemetry);
  const bench = useBench();
  // Stored results by GPU key (the UUID, else vendor:index), newest first.
  const byKey = useMemo(() => {
    const map = new Map<string, BenchGpuResult[]>();
    for (const e of bench.entries) map.set(e.result.gpuKey, [...(map.get(e.result.gpuKey) ?? []), e.result]);
    return map;
  }, [bench.entries]);
  const webgpuResults = useMemo(() => bench.entries.filter((e) => e.result.gpuKey.startsWith('webgpu:')).map((e) => e.result), [bench.entries]);

  return (
    <div className="page">
      <div className="toolbar">
        <p className="muted">
          {gpus === null ? 'Looking for GPUs…' : `${gpus.length} GPU${gpus.length === 1 ? '' : 's'} found`}
          {telemetryStatus?.state === 'running' && gpus !== null && gpus.length > 0 ? ' · live telemetry about once a second' : ''}
        </p>
        <div className="toolbar-actions">
          <div className="segmented" role="group" aria-label="Chart range">
            {RANGES.map((r) => (
              <button key={r.ms} type="button" className={windowMs === r.ms ? 'active' : undefined} aria-pressed={windowMs === r.ms} onClick={() => setWindowMs(r.ms)}>
                {r.label}
              </button>
            ))}
          </div>
          <button type="button" className="button" onClick={() => void refreshGpus()} disabled={!connected || loading}>
            <Icon name="refresh" size={16} className={loading ? 'spin' : undefined} />
            {loading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>

      {telemetryStatus && telemetryStatus.state !== 'running' && gpus !== null && gpus.length > 0 ? (
        <div className={`banner ${telemetryStatus.state === 'unavailable' ? 'banner-fail' : 'banner-warn'}`} data-testid="telemetry-status">
          <Icon name="warn" />
          <div className="banner-text">
            <strong>Live telemetry {telemetryStatus.state === 'restarting' ? 'is restarting' : telemetryStatus.state === 'stopped' ? 'is stopped' : 'is unavailable'}</strong>
            <span>{telemetryStatus.reason}</span>
          </div>
        </div>
      ) : null}

      {gpusError ? <ErrorBanner title="Could not list the GPUs" text={gpusError} /> : null}

      {bench.error ? <ErrorBanner title="Benchmark" text={bench.error} testId="bench-error" /> : null}

      <WebgpuPanel bench={bench} results={webgpuResults} connected={connected} gpuIndex={gpus?.length === 1 ? gpus[0]!.index : null} />

      {gpus === null ? (
        gpusError ? null : <div className="card skeleton" aria-busy="true">Looking for GPUs…</div>
      ) : gpus.length === 0 ? (
        <NoGpus />
      ) : (
        <div className="gpu-grid">
          {gpus.map((gpu) => (
            <GpuCard
              key={`${gpu.vendor}-${gpu.index}-${gpu.uuid ?? ''}`}
              gpu={gpu}
              samples={telemetry[gpu.index]}
              end={end}
              windowMs={windowMs}
              bench={<GpuBench gpu={gpu} results={byKey.get(gpu.uuid ?? `${gpu.vendor}:${gpu.index}`) ?? []} bench={bench} connected={connected} />}
            />
          ))}
        </div>
      )}
    </div>
  );
}

/** No GPU: say why (the system check's GPU item, else the agent's reason) and where to look. */
function NoGpus() {
  const check = useDashboard((s) => s.systemCheck);
  const agent = useDashboard((s) => s.agent);
  const gpuItem = check?.items.find((i) => /gpu|driver/i.test(`${i.id} ${i.title}`) && i.status !== 'pass');
  const why = gpuItem?.message ?? (agent?.reason === 'no-gpu' ? agent.detail : null) ?? 'No GPU tool (nvidia-smi, rocm-smi) reported a GPU on this machine.';
  return (
    <div className="card empty-state" data-testid="no-gpus">
      <div className="empty-icon">
        <Icon name="gpu" size={36} />
      </div>
      <h2>No GPU found</h2>
      <p>{why}</p>
      <p className="muted">Offshift leases NVIDIA GPUs (driver and nvidia-smi) and AMD GPUs (ROCm and rocm-smi). Once the driver works, restart the agent.</p>
      <p className="muted" data-testid="no-gpus-cpu-jobs">
        Meanwhile, jobs that need no GPU still run on this computer, like the demo network&apos;s renders: see <a href={hashFor('jobs')}>Jobs</a> and{' '}
        <a href={hashFor('marketplace')}>Marketplace</a>.
      </p>
      <a className="button button-primary" href={hashFor('system')}>
        Open the System check
      </a>
    </div>
  );
}
