import { describe, expect, it } from 'vitest';
import { MIN_PRICE_TOKENS, suggestPricePerGpuHour, TOKEN } from '../../../runtime/bench/price.js';

const tokens = (x: number) => (BigInt(Math.round(x * 1000)) * TOKEN) / 1000n;

describe('suggestPricePerGpuHour', () => {
  it('the reference card (score 100, 24 GiB) suggests 0.40 token per GPU-hour, in base units', () => {
    const p = suggestPricePerGpuHour({ score: 100, vramGiB: 24 });
    expect(p.pricePerGpuHour).toBe(tokens(0.4));
    expect(p.pricePerGpuHour).toBe(400_000_000_000_000_000n);
    expect(p.basis).toMatch(/rate table: 0\.004 token per score point × score 100 × VRAM factor 1/);
  });

  it('more VRAM raises the price for the same score', () => {
    expect(suggestPricePerGpuHour({ score: 100, vramGiB: 80 }).pricePerGpuHour).toBe(tokens(0.5));
    expect(suggestPricePerGpuHour({ score: 100, vramGiB: 6 }).pricePerGpuHour).toBe(tokens(0.32));
  });

  it('without a score it prices the VRAM and says to run the benchmark', () => {
    const p = suggestPricePerGpuHour({ score: null, vramGiB: 24 });
    expect(p.pricePerGpuHour).toBe(tokens(0.24));
    expect(p.basis).toMatch(/run the benchmark/);
  });

  it('never goes below the minimum', () => {
    expect(suggestPricePerGpuHour({ score: 1, vramGiB: 2 }).pricePerGpuHour).toBe(tokens(MIN_PRICE_TOKENS));
    expect(suggestPricePerGpuHour({ score: null, vramGiB: Number.NaN }).pricePerGpuHour).toBe(tokens(MIN_PRICE_TOKENS));
  });

  it('follows the market median once there are three recent prices', () => {
    const p = suggestPricePerGpuHour({ score: 100, vramGiB: 24, marketRecentPrices: [tokens(0.3), tokens(0.5), tokens(0.35)] });
    expect(p.pricePerGpuHour).toBe(tokens(0.35));
    expect(p.basis).toMatch(/market: median of 3 recent prices \(0\.350/);
    // Two prices are not a market yet.
    expect(suggestPricePerGpuHour({ score: 100, vramGiB: 24, marketRecentPrices: [tokens(9), tokens(9)] }).pricePerGpuHour).toBe(tokens(0.4));
  });

  it('holds an odd market within half to twice the rate table', () => {
    expect(suggestPricePerGpuHour({ score: 100, vramGiB: 24, marketRecentPrices: [tokens(50), tokens(60), tokens(70)] }).pricePerGpuHour).toBe(tokens(0.8));
    const low = suggestPricePerGpuHour({ score: 100, vramGiB: 24, marketRecentPrices: [1n, 2n, 3n] });
    expect(low.pricePerGpuHour).toBe(tokens(0.2));
    expect(low.basis).toMatch(/held within/);
  });

  it('ignores zero or negative market prices', () => {
    expect(suggestPricePerGpuHour({ score: 100, vramGiB: 24, marketRecentPrices: [0n, -5n, tokens(0.3), tokens(0.3)] }).pricePerGpuHour).toBe(tokens(0.4));
  });
});
