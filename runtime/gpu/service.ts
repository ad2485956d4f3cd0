/**
 * The GPU capability: inventory on demand (cached about a second) and live telemetry into a
 * ring buffer, pushed out through the callbacks the agent turns into `gpu.telemetry` events.
 */
import type { Logger } from '../log.js';
import type { BackoffOptions } from './backoff.js';
import { readInventory, systemGraphics, type GpuToolReport, type Inventory } from './inventory.js';
import type { GraphicsController } from './generic.js';
import { NvidiaTelemetryReader, type TelemetrySource } from './nvidia-telemetry.js';
import { TelemetryRing } from './ring-buffer.js';
import { RocmTelemetryPoller } from './rocm-telemetry.js';
import type { Gpu, TelemetrySample, TelemetryStatus } from './schema.js';

export type { GpuToolReport } from './inventory.js';

export interface GpuServiceOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  telemetryIntervalMs: number;
  onSamples(samples: TelemetrySample[]): void;
  onTelemetryStatus(status: TelemetryStatus): void;
  /** How long telemetry is kept per GPU (default 10 minutes). */
  telemetryRetentionMs?: number;
  /** Restart backoff of the telemetry readers (default 1 s doubling to 60 s). */
  telemetryBackoff?: BackoffOptions;
  /** How long list() reuses the last inventory (default 1 s). */
  inventoryCacheMs?: number;
  /** Replaces systeminformation's graphics() (tests). */
  graphics?: () => Promise<{ controllers: GraphicsController[] }>;
  /**
   * How long the systeminformation part of the inventory is reused (default 60 s). It spawns
   * lspci, clinfo, xdpyinfo and xrandr on Linux, the adapters it finds do not change while the
   * machine runs, and the vendor tools' part (live values, processes) is re-read on every list().
   */
  genericCacheMs?: number;
}

export type GpuService = {
  /** Detects the GPUs and starts telemetry. */
  start(): Promise<Gpu[]>;
  stop(): Promise<void>;
  /** The inventory, re-read (cached for about a second). */
  list(): Promise<Gpu[]>;
  /** The status and the buffered samples newer than `sinceMs` (Unix ms), oldest first. */
  telemetry(sinceMs?: number): { status: TelemetryStatus; samples: TelemetrySample[] };
  /** What each vendor tool said at the last inventory (for the system check). */
  tools(): Promise<GpuToolReport[]>;
  /** The running telemetry readers (tests, bench). */
  readonly sources: readonly TelemetrySource[];
};

const NO_TOOL =
  'Live telemetry needs nvidia-smi (installed with the NVIDIA driver) or rocm-smi (AMD ROCm), and neither was found on PATH. Install your GPU driver, then restart Offshift.';

export function combineStatuses(statuses: TelemetryStatus[]): TelemetryStatus {
  if (statuses.length === 0) return { state: 'unavailable', reason: NO_TOOL };
  if (statuses.length === 1) return statuses[0]!;
  const order: TelemetryStatus['state'][] = ['running', 'restarting', 'unavailable', 'stopped'];
  const best = statuses.map((s) => s.state).sort((a, b) => order.indexOf(a) - order.indexOf(b))[0]!;
  return { state: best, reason: statuses.map((s) => s.reason).join(' ') };
}

export function createGpuService(opts: GpuServiceOptions): GpuService {
  const intervalMs = Math.max(100, opts.telemetryIntervalMs);
  const ring = new TelemetryRing(Math.ceil((opts.telemetryRetentionMs ?? 10 * 60_000) / intervalMs));
  const sources: TelemetrySource[] = [];
  const inventory = inventoryCache(opts);
  let started = false;
  let status: TelemetryStatus = { state: 'stopped', reason: 'Telemetry has not started.' };

  const setStatus = (next: TelemetryStatus) => {
    if (next.state === status.state && next.reason === status.reason) return;
    status = next;
    opts.onTelemetryStatus(next);
  };
  const refreshStatus = () => setStatus(combineStatuses(sources.map((s) => s.status)));

  const onSamples = (samples: TelemetrySample[]) => {
    ring.push(samples);
    opts.onSamples(samples);
  };

  return {
    sources,
    async start() {
      const inv = await inventory.read();
      if (started) return inv.gpus;
      started = true;
      const common = { env: opts.env, log: opts.log, intervalMs, onSamples, onStatus: refreshStatus, backoff: opts.telemetryBackoff };
      for (const tool of inv.tools) {
        if (!tool.path) continue;
        // A tool that is installed is read even if the inventory found no GPU with it: its
        // status then says why (e.g. the driver is not loaded), and it recovers by itself.
        sources.push(tool.tool === 'nvidia-smi' ? new NvidiaTelemetryReader(common) : new RocmTelemetryPoller(common));
      }
      if (sources.length === 0) {
        const others = inv.gpus.map((g) => g.name);
        setStatus({
          state: 'unavailable',
          reason: others.length > 0 ? `No live telemetry for ${others.join(', ')}: ${NO_TOOL}` : NO_TOOL,
        });
      }
      for (const source of sources) source.start();
      opts.log.info('gpus detected', { count: inv.gpus.length, tools: inv.tools.filter((t) => t.path).map((t) => t.tool) });
      return inv.gpus;
    },
    async stop() {
      started = false;
      await Promise.all(sources.map((s) => s.stop()));
      sources.length = 0;
      setStatus({ state: 'stopped', reason: 'Telemetry is stopped.' });
    },
    async list() {
      return (await inventory.read()).gpus;
    },
    telemetry(sinceMs) {
      return { status, samples: ring.since(sinceMs) };
    },
    async tools() {
      return (inventory.last() ?? (await inventory.read())).tools;
    },
  };
}

/** The inventory, reused for `inventoryCacheMs`; its systeminformation part for `genericCacheMs`. */
function inventoryCache(opts: GpuServiceOptions): { read(): Promise<Inventory>; last(): Inventory | null } {
  const cacheMs = opts.inventoryCacheMs ?? 1000;
  const graphics = graphicsCache(opts.graphics ?? systemGraphics, opts.genericCacheMs ?? 60_000);
  let last: { at: number; inventory: Inventory } | null = null;
  let inFlight: Promise<Inventory> | null = null;
  return {
    read() {
      if (last && Date.now() - last.at < cacheMs) return Promise.resolve(last.inventory);
      inFlight ??= readInventory({ env: opts.env, log: opts.log, graphics })
        .then((inv) => {
          last = { at: Date.now(), inventory: inv };
          return inv;
        })
        .finally(() => (inFlight = null));
      return inFlight;
    },
    last: () => last?.inventory ?? null,
  };
}

/** systeminformation's graphics(), reused for `genericCacheMs`; a failed read is retried next time. */
function graphicsCache(
  graphicsSource: () => Promise<{ controllers: GraphicsController[] }>,
  genericCacheMs: number,
): () => Promise<{ controllers: GraphicsController[] }> {
  let cache: { at: number; value: Promise<{ controllers: GraphicsController[] }> } | null = null;
  return () => {
    if (!cache || Date.now() - cache.at >= genericCacheMs) {
      const value = graphicsSource();
      cache = { at: Date.now(), value };
      value.catch(() => {
        if (cache?.value === value) cache = null; // retry next time
      });
    }
    return cache.value;
  };
}
