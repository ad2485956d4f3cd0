/**
 * The GPUs page's benchmark state: stored results (bench.history), the CUDA run in progress
 * (bench.progress events) and the WebGPU run in this window. One instance, on the GPUs page.
 */
import { useCallback, useEffect, useState } from 'react';
import type { BenchHistoryEntry, BenchProgress } from '../../../runtime/bench/schema.js';
import { message } from '../api/agent-call.js';
import { useDashboard } from '../store/dashboard-store.js';
import { startSession } from '../store/session.js';
import { runWebgpuBench, type WebgpuProgress } from './webgpu.js';

export interface BenchState {
  entries: BenchHistoryEntry[];
  /** The CUDA run's progress (any window may have started it). */
  progress: BenchProgress | null;
  running: boolean;
  error: string | null;
  webgpu: { running: boolean; progress: WebgpuProgress | null; error: string | null };
  runCuda(gpuIndex: number): Promise<void>;
  runWebgpu(gpuIndex: number | null): Promise<void>;
}


export function useBench(): BenchState {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [entries, setEntries] = useState<BenchHistoryEntry[]>([]);
  const [progress, setProgress] = useState<BenchProgress | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [webgpu, setWebgpu] = useState<BenchState['webgpu']>({ running: false, progress: null, error: null });

  const refresh = useCallback(async () => {
    try {
      setEntries((await startSession().client.call('bench.history', { limit: 500 })).entries);
    } catch (e) {
      setError(`Could not read the benchmark history: ${message(e)}`);
    }
  }, []);

  useEffect(() => {
    if (!connected) return;
    void refresh();
    return startSession().client.on('bench.progress', (p) => {
      setProgress(p.done ? null : p);
      setRunning(!p.done);
      if (p.done) void refresh();
    });
  }, [connected, refresh]);

  const runCuda = useCallback(
    async (gpuIndex: number) => {
      setError(null);
      setRunning(true);
      try {
        const out = await startSession().client.call('bench.run', { gpu: String(gpuIndex), quick: true });
        const failed = out.gpus.find((g) => g.error);
        if (failed) setError(failed.error);
      } catch (e) {
        setError(message(e));
      } finally {
        // The new result first, then the button: no moment showing the previous result as the newest.
        await refresh();
        setRunning(false);
        setProgress(null);
      }
    },
    [refresh],
  );

  const runWebgpu = useCallback(
    async (gpuIndex: number | null) => {
      setWebgpu({ running: true, progress: { fraction: 0, message: 'Starting WebGPU…' }, error: null });
      try {
        const result = await runWebgpuBench((p) => setWebgpu((w) => ({ ...w, progress: p })));
        await startSession().client.call('bench.submitWebgpu', { ...result, gpuIndex });
        setWebgpu({ running: false, progress: null, error: null });
      } catch (e) {
        setWebgpu({ running: false, progress: null, error: message(e) });
      }
      await refresh();
    },
    [refresh],
  );

  return { entries, progress, running, error, webgpu, runCuda, runWebgpu };
}
