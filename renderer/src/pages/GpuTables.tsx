/** A GPU card's tables: its MIG slices (when it has any) and the processes using it. */
import type { Gpu } from '../../../runtime/gpu/schema.js';
import { formatMemory, formatNumber } from '../lib/format.js';

export function MigSlices({ gpu }: { gpu: Gpu }) {
  if (gpu.migDevices.length === 0) return null;
  return (
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
  );
}

export function GpuProcesses({ gpu }: { gpu: Gpu }) {
  return (
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
  );
}
