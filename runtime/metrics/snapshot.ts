/**
 * What one scrape reports, as plain data gathered from the agent's parts (sources.ts). The
 * families are made from it (families.ts, dcgm.ts): pure, and tested without an agent.
 */
export interface GpuReading {
  index: number;
  uuid: string;
  model: string;
  pciBusId: string | null;
  utilizationPct: number | null;
  temperatureC: number | null;
  powerW: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
}

export interface MetricsSnapshot {
  version: string;
  platform: string;
  hostname: string;
  startedAtSeconds: number;
  state: { state: string; reason: string };
  ownerActive: boolean;
  /** A job holds the machine's GPUs now (the GPU is lent). */
  gpuLeased: boolean;
  runningJobs: number;
  gpus: GpuReading[];
  /** Jobs that ended since the agent started, by final state. */
  jobsByOutcome: Record<string, number>;
  /** Ledger amounts in tokens (float; the ledger's exact figures are in base units). Null: no wallet, so no ledger. */
  earnings: { symbol: string; earnedTokens: number; todayTokens: number; redeemableTokens: number; redeemedTokens: number; voucherErrors: number } | null;
  market: { network: string; state: string };
  policy: { source: string; version: string };
  images: { usedBytes: number; budgetBytes: number; count: number } | null;
}

/** An exact base-unit amount as a float of tokens (Prometheus keeps float64: about 15 significant digits). */
export function toTokens(baseUnits: bigint | string, decimals: number): number {
  const v = BigInt(baseUnits);
  const scale = 10n ** BigInt(decimals);
  const whole = v / scale;
  const frac = v % scale;
  return Number(whole) + Number(frac) / Number(scale);
}
