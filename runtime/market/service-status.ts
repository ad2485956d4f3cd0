/** What the marketplace service says: market.status (link, offers, running jobs, a suggested price), and market.update soon after a change. */
import { amountForSeconds } from '../../protocol/index.js';
import type { ConnectionState, MarketJobRecord, MarketStatus, OfferRecord } from './schema.js';
import { effectiveMarket, type MarketCore } from './service-core.js';
import { defaultMarketSettings } from './settings.js';
import { MarketStore } from './store.js';

/** The link's state and reason; `since` moves only when either changes. */
export function setLink(c: MarketCore, state: ConnectionState, reason: string, nextRetryAt: number | null = null): void {
  if (c.link.state !== state || c.link.reason !== reason) c.link = { state, reason, since: c.now(), nextRetryAt };
  else c.link.nextRetryAt = nextRetryAt;
  marketChanged(c);
}

/** market.update, at most once per 250 ms. */
export function marketChanged(c: MarketCore): void {
  if (c.updateTimer || c.stopped) return;
  c.updateTimer = setTimeout(() => {
    c.updateTimer = null;
    void marketStatus(c)
      .then((s) => c.o.bus.emit('market.update', s))
      .catch(() => {});
  }, 250);
  c.updateTimer.unref?.();
}

export async function marketStatus(c: MarketCore): Promise<MarketStatus> {
  const o = c.o;
  const e = effectiveMarket(c);
  const s = e.ok ? e.value : defaultMarketSettings;
  const loaded = c.provider ? await o.money.load() : null;
  const meta = loaded ? loaded.wallet.tokenMeta() : { symbol: 'OFT', decimals: 18 };
  let offers: OfferRecord[] = [];
  let jobs: MarketJobRecord[] = [];
  let address: string | null = null;
  if (loaded) {
    address = loaded.wallet.address();
    offers = new MarketStore(loaded.db).recentOffers();
    jobs = runningJobs(c);
  }
  let suggested: { price: bigint; basis: string } | null = null;
  try {
    const recent = loaded ? new MarketStore(loaded.db).recentGpuPrices() : [];
    suggested = o.suggestPrice ? o.suggestPrice(await o.listGpus(), o.scores ? await o.scores() : new Map(), recent) : null;
  } catch (error) {
    o.log.warn('no price suggestion', { error: (error as Error).message });
  }
  return {
    network: c.target.network,
    url: c.target.url,
    state: c.link.state,
    reason: c.link.reason,
    since: c.link.since,
    nextRetryAt: c.link.nextRetryAt,
    address,
    settings: s,
    locked: e.locked,
    suggestedPricePerGpuHour: suggested ? suggested.price.toString() : null,
    suggestionBasis: suggested?.basis ?? null,
    offers,
    jobs,
    tokenSymbol: meta.symbol,
    tokenDecimals: meta.decimals,
    demoJobs: c.target.network === 'demo' ? (o.demo?.jobs() ?? null) : null,
  };
}

/** The market jobs the provider runs now, each with its local job's state. */
function runningJobs(c: MarketCore): MarketJobRecord[] {
  return (c.provider?.runningJobs() ?? []).map((j) => {
    const local = c.o.runner.get(j.row.local_job_id);
    return {
      jobId: j.row.job_id,
      localJobId: j.row.local_job_id,
      buyer: j.row.buyer,
      pricePerHour: j.row.price_per_hour,
      reportIntervalSeconds: j.row.report_interval_s,
      state: local?.state ?? 'queued',
      startedAt: local?.startedAt ?? null,
      usageSeconds: j.row.reported_seconds,
      amountDue: amountForSeconds(j.row.reported_seconds, BigInt(j.row.price_per_hour)).toString(),
      paidUpTo: j.row.paid_up_to,
      lastVoucherAt: j.row.last_voucher_at,
      voucherProblem: j.row.voucher_problem,
    };
  });
}
