/**
 * The suggested price per GPU-hour, in token base units (18 decimals). Pure; the rate table
 * is documented in docs/benchmarks.md.
 *
 * - With a score: RATE_PER_SCORE_POINT × score × the VRAM factor (more memory takes larger
 *   jobs), never below MIN_PRICE.
 * - Without a score (no benchmark yet): RATE_PER_VRAM_GIB × VRAM, never below MIN_PRICE.
 * - With at least MIN_MARKET_PRICES recent market prices (the marketplace's, for comparable
 *   offers): their median, held within [½, 2×] of the rate-table figure so one odd market
 *   cannot drag the suggestion far from what the card is worth.
 * Every result is rounded to 0.001 token.
 */
import { formatTokens } from '../ledger/tokens.js';

const TOKEN_DECIMALS = 18;
export const TOKEN = 10n ** BigInt(TOKEN_DECIMALS);
const MILLI = 10n ** 15n;

/** Tokens per GPU-hour per score point: the reference card (score 100) suggests 0.40. */
export const RATE_PER_SCORE_POINT = 0.004;
/** Tokens per GPU-hour per GiB of VRAM, when there is no score yet. */
export const RATE_PER_VRAM_GIB = 0.01;
export const MIN_PRICE_TOKENS = 0.02;
export const MIN_MARKET_PRICES = 3;
/** [upper bound of VRAM in GiB (exclusive), factor]. */
export const VRAM_FACTORS: readonly [number, number][] = [
  [8, 0.8],
  [16, 0.9],
  [32, 1.0],
  [64, 1.1],
  [Infinity, 1.25],
];

export interface PriceInput {
  score: number | null;
  vramGiB: number;
  marketRecentPrices?: bigint[];
}

export interface PriceSuggestion {
  pricePerGpuHour: bigint;
  basis: string;
}

export function vramFactor(vramGiB: number): number {
  return VRAM_FACTORS.find(([limit]) => vramGiB < limit)![1];
}

const toBaseUnits = (tokens: number): bigint => BigInt(Math.round(tokens * 1000)) * MILLI;
const roundToMilli = (units: bigint): bigint => ((units + MILLI / 2n) / MILLI) * MILLI;
/** A price as the rate table and docs/benchmarks.md show it: tokens to 0.001, three places ("0.400"). */
export const formatPrice = (units: bigint): string => formatTokens(roundToMilli(units), TOKEN_DECIMALS, { minFraction: 3, maxFraction: 3 });

function median(values: bigint[]): bigint {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2n;
}

export function suggestPricePerGpuHour(input: PriceInput): PriceSuggestion {
  const vram = Number.isFinite(input.vramGiB) && input.vramGiB > 0 ? input.vramGiB : 0;
  const score = input.score !== null && Number.isFinite(input.score) && input.score > 0 ? input.score : null;
  let tableTokens: number;
  let basis: string;
  if (score !== null) {
    const factor = vramFactor(vram);
    tableTokens = RATE_PER_SCORE_POINT * score * factor;
    basis = `rate table: ${RATE_PER_SCORE_POINT} token per score point × score ${score} × VRAM factor ${factor} (${Math.round(vram)} GiB)`;
  } else {
    tableTokens = RATE_PER_VRAM_GIB * vram;
    basis = `rate table without a benchmark: ${RATE_PER_VRAM_GIB} token per GiB of VRAM × ${Math.round(vram)} GiB; run the benchmark for a price that reflects the card's speed`;
  }
  if (tableTokens < MIN_PRICE_TOKENS) {
    tableTokens = MIN_PRICE_TOKENS;
    basis += `, raised to the minimum of ${MIN_PRICE_TOKENS} token`;
  }
  const table = toBaseUnits(tableTokens);
  const market = (input.marketRecentPrices ?? []).filter((p) => p > 0n);
  if (market.length < MIN_MARKET_PRICES) return { pricePerGpuHour: table, basis };

  const med = median(market);
  const low = table / 2n;
  const high = table * 2n;
  const held = med < low ? low : med > high ? high : med;
  const clamp = held === med ? '' : `, held within ½–2× of the rate-table ${formatPrice(table)} token`;
  return {
    pricePerGpuHour: roundToMilli(held),
    basis: `market: median of ${market.length} recent prices (${formatPrice(med)} token per GPU-hour)${clamp}`,
  };
}
