/**
 * Gathers one snapshot from the agent's parts, each read the cheap way: the GPU inventory at most
 * once a minute (names and UUIDs do not change) with live values from the telemetry buffer, the
 * image store's view at most once a minute (it asks the engine), the ledger only where a wallet
 * exists (so that metrics never load the wallet's code into an agent without one).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { EventBus } from '../api/events.js';
import type { Gpu, TelemetrySample } from '../gpu/schema.js';
import type { GpuService } from '../gpu/service.js';
import type { ImageService } from '../images/service.js';
import { finalJobStates, type Job } from '../jobs/schema.js';
import type { MarketService } from '../market/service.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { appliedPolicyVersion } from '../policy/version.js';
import { VERSION } from '../version.js';
import { keystoreExists } from '../wallet/keystore-file.js';
import type { LazyMoney } from '../wallet/lazy-money.js';
import type { ReclaimInputs } from './reclaim.js';
import { toTokens, type GpuReading, type MetricsSnapshot } from './snapshot.js';

/** Reasons of the availability decision that mean the owner uses the computer. */
const OWNER_ACTIVE_REASONS = new Set(['user-active', 'exclusive-app', 'foreign-gpu-use']);
const SLOW_CACHE_MS = 60_000;
const FINAL = new Set<string>(finalJobStates);
/** How many ended jobs are remembered so that a repeated final update is not counted twice. */
const SEEN_LIMIT = 4096;

export interface SnapshotParts {
  home: string;
  bus: EventBus;
  startedAt: string;
  state: () => { state: string; reason: string };
  stateInputs: () => ReclaimInputs & { gpuCount: number };
  gpu: GpuService;
  images: ImageService;
  market: MarketService;
  money: LazyMoney;
  policy: () => LoadedPolicy;
  /**
   * The policy's version, where the host knows better (default: the signed document's or the
   * file's own `version`, else a short hash of the layers in force, the same on every machine
   * with the same policy).
   */
  policyVersion?: (policy: LoadedPolicy) => string | null;
}

export interface SnapshotSource {
  collect(): Promise<MetricsSnapshot>;
  close(): void;
}

export function createSnapshotSource(p: SnapshotParts): SnapshotSource {
  const outcomes: Record<string, number> = {};
  const seen = new Set<string>();
  // The market link as its updates tell it (emitted on every change): market.status() itself
  // lists the GPUs for its price suggestion (an `nvidia-smi -q -x` once its 1 s cache has run
  // out, i.e. on every scrape) and loads the ledger, far too much for a scrape. It is read once,
  // until the first update comes.
  let marketLink: { network: string; state: string } | null = null;
  const unsubscribe = p.bus.subscribe((event, payload) => {
    if (event === 'market.update') {
      const m = payload as { network: string; state: string };
      marketLink = { network: m.network, state: m.state };
      return;
    }
    if (event !== 'job.update') return;
    const job = payload as Job;
    if (!FINAL.has(job.state) || seen.has(job.id)) return;
    seen.add(job.id);
    if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value!);
    outcomes[job.state] = (outcomes[job.state] ?? 0) + 1;
  });
  const inventory = cached(SLOW_CACHE_MS, () => p.gpu.list());
  const imagesView = cached(SLOW_CACHE_MS, () => p.images.view());
  const hostname = os.hostname();

  async function earnings(): Promise<MetricsSnapshot['earnings']> {
    if (!keystoreExists(p.home)) return null;
    const money = await p.money.load();
    const summary = await money.handlers['earnings.summary']({});
    const d = summary.tokenDecimals;
    return {
      symbol: summary.tokenSymbol,
      earnedTokens: toTokens(summary.totals.earned, d),
      todayTokens: toTokens(summary.today, d),
      redeemableTokens: toTokens(summary.totals.redeemable, d),
      redeemedTokens: toTokens(summary.totals.redeemed, d),
      voucherErrors: money.ledger.refusedVouchers(1).total,
    };
  }

  return {
    async collect() {
      const inputs = p.stateInputs();
      const [gpus, market, images, money] = await Promise.all([
        inventory().catch(() => [] as Gpu[]),
        marketLink ?? p.market.status().then((m) => (marketLink ??= { network: m.network, state: m.state }), () => null),
        imagesView().catch(() => null),
        earnings().catch(() => null),
      ]);
      const policy = p.policy();
      return {
        version: VERSION,
        platform: process.platform,
        hostname,
        startedAtSeconds: Math.floor(Date.parse(p.startedAt) / 1000),
        state: p.state(),
        ownerActive: inputs.availability !== null && !inputs.availability.run && OWNER_ACTIVE_REASONS.has((inputs.availability as { reason?: string }).reason ?? ''),
        gpuLeased: inputs.gpuCount > 0 && inputs.runningJobs > 0 && p.state().state === 'working',
        runningJobs: inputs.runningJobs,
        gpus: readings(gpus, p.gpu.telemetry(Date.now() - 30_000).samples),
        jobsByOutcome: { ...outcomes },
        earnings: money,
        market: { network: market?.network ?? 'off', state: market?.state ?? 'off' },
        policy: { source: policySource(policy), version: p.policyVersion?.(policy) ?? layersVersion(policy) },
        images: images ? { usedBytes: images.usage.usedBytes, budgetBytes: images.usage.budgetBytes, count: images.images.length } : null,
      };
    },
    close: unsubscribe,
  };
}

/** The inventory's names and UUIDs, with the newest telemetry sample's values where there is one. */
function readings(gpus: Gpu[], samples: TelemetrySample[]): GpuReading[] {
  const latest = new Map<number, TelemetrySample>();
  for (const s of samples) latest.set(s.gpuIndex, s);
  const mib = (v: number | null | undefined) => (v === null || v === undefined ? null : v * 1048576);
  return gpus.map((g) => {
    const s = latest.get(g.index);
    return {
      index: g.index,
      uuid: g.uuid ?? s?.uuid ?? `gpu-${g.index}`,
      model: g.name,
      pciBusId: g.pciBusId,
      utilizationPct: s?.utilizationPct ?? g.utilizationPct,
      temperatureC: s?.temperatureC ?? g.temperatureC,
      powerW: s?.powerDrawW ?? g.powerDrawW,
      memoryUsedBytes: mib(s?.memoryUsedMiB ?? g.memoryUsedMiB),
      memoryTotalBytes: mib(s?.memoryTotalMiB ?? g.memoryTotalMiB),
    };
  });
}

/** `url` (a signed policy the file pins), `file`, `none` or `invalid`: as policy.status says. */
function policySource(policy: LoadedPolicy): string {
  if (policy.state !== 'ok') return policy.state;
  return policy.source ? 'url' : 'file';
}

function layersVersion(policy: LoadedPolicy): string {
  if (policy.state !== 'ok') return '';
  const version = appliedPolicyVersion(policy);
  if (version !== null) return String(version);
  const text = JSON.stringify({ mandatory: policy.mandatory, recommended: policy.recommended });
  return 'sha256:' + crypto.createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function cached<T>(ms: number, read: () => Promise<T>): () => Promise<T> {
  let at = -Infinity;
  let value: Promise<T> | null = null;
  return () => {
    if (value === null || performance.now() - at > ms) {
      at = performance.now();
      value = read();
      // A failed read is tried again at the next scrape.
      value.catch(() => (value = null));
    }
    return value;
  };
}
