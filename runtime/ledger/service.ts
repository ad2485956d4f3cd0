/** The earnings screen's queries: the ledger plus the owner's time zone and the token's units. */
import { AppError } from '../errors.js';
import type { Ledger } from './ledger.js';
import type { SeriesPoint } from './schema.js';
import { addDays, localDateKey, offsetMs, startOfDateKey, systemTimeZone } from '../time/zone.js';

export interface EarningsServiceOptions {
  ledger: Ledger;
  token: () => { symbol: string; decimals: number };
  now?: () => number;
}

export class EarningsService {
  constructor(private readonly options: EarningsServiceOptions) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private zone(timeZone?: string): string {
    const tz = timeZone ?? systemTimeZone();
    offsetMs(0, tz); // refuses unknown zones with a clear error
    return tz;
  }

  summary(timeZone?: string) {
    const tz = this.zone(timeZone);
    const ledger = this.options.ledger;
    const today = localDateKey(this.now(), tz);
    const startOf = (key: string) => startOfDateKey(key, tz);
    const end = startOf(addDays(today, 1));
    const totals = ledger.totals();
    const token = this.options.token();
    return {
      timeZone: tz,
      today: ledger.earnedBetween(startOf(today), end).toString(),
      last7Days: ledger.earnedBetween(startOf(addDays(today, -6)), end).toString(),
      last30Days: ledger.earnedBetween(startOf(addDays(today, -29)), end).toString(),
      allTime: totals.earned,
      totals,
      tokenSymbol: token.symbol,
      tokenDecimals: token.decimals,
    };
  }

  series(input: { unit: 'day' | 'week' | 'month'; from?: string; to?: string; days?: number; timeZone?: string }): { timeZone: string; unit: 'day' | 'week' | 'month'; points: SeriesPoint[] } {
    const tz = this.zone(input.timeZone);
    const to = input.to ?? localDateKey(this.now(), tz);
    const from = input.from ?? addDays(to, -((input.days ?? 30) - 1));
    const span = (Date.parse(to) - Date.parse(from)) / 86_400_000;
    if (span > 3660) throw new AppError('invalid-input', 'Ask for at most ten years at a time.');
    return { timeZone: tz, unit: input.unit, points: this.options.ledger.series(input.unit, from, to, tz) };
  }

  private range(from?: string, to?: string, timeZone?: string): { fromMs?: number; toMs?: number; tz: string } {
    const tz = this.zone(timeZone);
    const at = (key: string) => startOfDateKey(key, tz);
    return { tz, fromMs: from ? at(from) : undefined, toMs: to ? at(addDays(to, 1)) : undefined };
  }

  byGpu(input: { from?: string; to?: string; timeZone?: string }) {
    const r = this.range(input.from, input.to, input.timeZone);
    return { gpus: this.options.ledger.byGpu(r.fromMs, r.toMs) };
  }

  jobs(limit: number, offset: number) {
    return this.options.ledger.jobs(limit, offset);
  }

  exportCsv(input: { from?: string; to?: string; timeZone?: string }) {
    const r = this.range(input.from, input.to, input.timeZone);
    const token = this.options.token();
    const { csv, rows } = this.options.ledger.exportCsv({ fromMs: r.fromMs, toMs: r.toMs, timeZone: r.tz, decimals: token.decimals, symbol: token.symbol });
    return { filename: `offshift-earnings-${localDateKey(this.now(), r.tz)}.csv`, csv, rows };
  }
}
