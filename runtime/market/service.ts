/**
 * The marketplace capability in the agent: picks the market (a real one from the settings, or
 * the demo network on this computer), gets the wallet ready (identity is the wallet: unlock it
 * from a password file, the demo wallet's own, or wait for the owner), runs the MarketProvider,
 * and answers market.status / market.settings with the state and its reason.
 */
import type { Handlers } from '../api/contract.js';
import type { EventBus } from '../api/events.js';
import type { AgentState, StateInputs } from '../agent/schema.js';
import type { Gpu } from '../gpu/schema.js';
import type { ImageService } from '../images/service.js';
import type { JobRunner } from '../jobs/runner.js';
import type { JobProgressEvent } from '../jobs/schema.js';
import type { Logger } from '../log.js';
import type { ScheduleService } from '../schedule/service.js';
import { effectiveSection } from '../settings/effective.js';
import type { LazyMoney } from '../wallet/lazy-money.js';
import type { MoneyService } from '../wallet/money.js';
import { VERSION } from '../version.js';
import { checkMarketUrl, type LinkState } from './connection.js';
import type { DemoNetwork } from './demo-network.js';
import type { MarketProvider } from './provider.js';
import type { ConnectionState, MarketJobRecord, MarketStatus, OfferRecord } from './schema.js';
import { defaultMarketSettings, type MarketPatch, type MarketSettings } from './settings.js';
import { secondsLeftInWindow } from './window.js';
import { checkMarketPatch } from './settings-check.js';
import { MarketStore } from './store.js';
import { amountForSeconds } from '../../protocol/index.js';
import { readSmallFile } from '../storage/small-file.js';

export type MarketHandlers = Pick<Handlers, 'market.status' | 'market.settings'>;

export interface MarketServiceOptions {
  home: string;
  log: Logger;
  bus: EventBus;
  runner: JobRunner;
  /** The image store (offers' images judged before any pull, warm images advertised, pre-pulls). */
  images?: ImageService;
  listGpus: () => Promise<Gpu[]>;
  schedule: ScheduleService;
  agentState: () => { value: AgentState; snapshot: Readonly<StateInputs> };
  money: LazyMoney;
  /** `offshift agent --password-file`: unlocks the wallet at start. */
  passwordFile?: string;
  /** Starts (or finds) the demo network and returns its market URL; null where no demo can run. */
  demo: DemoNetwork | null;
  /** The password the demo gave the wallet it made, if it made one (the data folder's demo password file). */
  demoPassword?: () => string | null;
  /** Benchmark scores by GPU key, when a benchmark has run. */
  scores?: () => Promise<ReadonlyMap<string, number>>;
  /** Suggested price per GPU-hour (base units) and its basis, from the GPUs, their scores and recent offers' prices per GPU-hour. */
  suggestPrice?: (gpus: Gpu[], scores: ReadonlyMap<string, number>, recentPerGpuHour: bigint[]) => { price: bigint; basis: string } | null;
  backoff?: { minMs: number; maxMs: number };
  now?: () => number;
}

export interface MarketService {
  readonly handlers: MarketHandlers;
  status(): Promise<MarketStatus>;
  /** The provider while one runs (tests). */
  provider(): MarketProvider | null;
  start(): void;
  stop(): Promise<void>;
}

export function createMarketService(o: MarketServiceOptions): MarketService {
  const now = o.now ?? Date.now;
  const settingsStore = o.schedule.settings;
  let provider: MarketProvider | null = null;
  let link: { state: ConnectionState; reason: string; since: number; nextRetryAt: number | null } = { state: 'off', reason: 'Starting…', since: now(), nextRetryAt: null };
  let target: { network: MarketStatus['network']; url: string | null } = { network: 'off', url: null };
  let reconciling: Promise<void> = Promise.resolve();
  let stopped = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let updateTimer: NodeJS.Timeout | null = null;

  const effective = () => effectiveSection('market', settingsStore.section('market').patch, o.schedule.policy.current);
  const settings = (): MarketSettings => {
    const e = effective();
    return e.ok ? e.value : defaultMarketSettings;
  };

  const setLink = (state: ConnectionState, reason: string, nextRetryAt: number | null = null) => {
    if (link.state !== state || link.reason !== reason) link = { state, reason, since: now(), nextRetryAt };
    else link.nextRetryAt = nextRetryAt;
    changed();
  };

  function changed(): void {
    if (updateTimer || stopped) return;
    updateTimer = setTimeout(() => {
      updateTimer = null;
      void status()
        .then((s) => o.bus.emit('market.update', s))
        .catch(() => {});
    }, 250);
    updateTimer.unref?.();
  }

  const availability = () => {
    const { value, snapshot } = o.agentState();
    const view = o.schedule.view();
    const windowSecondsLeft = secondsLeftInWindow(new Date(now()), view.timezone, view.effective, settings().maxJobSeconds);
    if (snapshot.fatal) return { run: false, state: 'error' as const, detail: snapshot.fatal.detail, windowSecondsLeft };
    if (snapshot.manualPause) return { run: false, state: 'paused' as const, detail: snapshot.manualPause.detail, windowSecondsLeft };
    if (snapshot.availability && !snapshot.availability.run) return { run: false, state: 'paused' as const, detail: snapshot.availability.detail, windowSecondsLeft };
    if (!snapshot.started) return { run: false, state: 'starting' as const, detail: value.detail, windowSecondsLeft };
    const detail = snapshot.gpuCount === 0 ? 'Available for CPU-only jobs (no GPU found).' : value.state === 'error' ? 'Available.' : value.detail;
    return { run: true, state: snapshot.runningJobs > 0 ? ('working' as const) : ('available' as const), detail, windowSecondsLeft };
  };

  /** The wallet, unlocked: from the password file, the demo wallet's own password, or not yet (null, with the reason set). */
  async function readyWallet(money: MoneyService, demo: boolean): Promise<boolean> {
    const wallet = money.wallet;
    const keystoreProblem = wallet.keystoreProblem();
    if (keystoreProblem) {
      setLink('refused', keystoreProblem);
      return false;
    }
    if (!wallet.address()) {
      if (demo && o.demo) {
        await o.demo.createDemoWallet(money);
      } else {
        setLink('wallet-locked', 'No wallet yet: create or import one on the Wallet page. The market knows this computer by its wallet address, and pays into it.');
        return false;
      }
    }
    if (!wallet.isUnlocked() && !(await unlock(money))) return false;
    if (demo && o.demo) await o.demo.fund(wallet.address()!).catch((error: unknown) => o.log.warn('funding the wallet with test ether failed', { error: (error as Error).message }));
    return true;
  }

  async function unlock(money: MoneyService): Promise<boolean> {
    const wallet = money.wallet;
    const candidates: string[] = [];
    if (o.passwordFile) {
      try {
        candidates.push(readSmallFile(o.passwordFile, 64 * 1024).replace(/\r?\n$/, ''));
      } catch (error) {
        o.log.warn('cannot read the wallet password file', { file: o.passwordFile, reason: (error as Error).message });
      }
    }
    const demoPassword = o.demoPassword?.() ?? null;
    if (demoPassword) candidates.push(demoPassword);
    for (const password of candidates) {
      try {
        await wallet.unlock(password);
        return true;
      } catch {}
    }
    setLink('wallet-locked', o.passwordFile ? `The password in ${o.passwordFile} does not unlock the wallet. Unlock it on the Wallet page.` : 'The wallet is locked: unlock it on the Wallet page to sign in to the market and be paid.');
    return false;
  }

  async function reconcile(): Promise<void> {
    if (stopped) return;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    const s = settings();
    const next: typeof target = !s.enabled ? { network: 'off', url: null } : s.url ? { network: 'real', url: s.url } : s.demo && o.demo ? { network: 'demo', url: null } : { network: 'off', url: null };
    if (next.network === 'off') {
      await stopProvider();
      target = next;
      setLink('off', !s.enabled ? 'The marketplace is switched off. Turn it on in the Marketplace page, or `offshift market config --url URL`.' : 'No market is set: give a market URL in the Marketplace page (or `offshift market config --url URL`).');
      return;
    }
    if (next.network === 'real') {
      await o.demo?.stop(); // a real market now: the demo network this agent started (in-app or detached) ends
      const checked = checkMarketUrl(next.url!, s.allowInsecure);
      if (!checked.ok) {
        await stopProvider();
        target = next;
        setLink('refused', checked.reason);
        return;
      }
    }
    if (next.network === 'demo') {
      if (!(target.network === 'demo' && provider)) setLink('starting-demo', 'Starting the demo network on this computer: a local chain, the reference market and a demo buyer…');
      try {
        next.url = await o.demo!.up();
      } catch (error) {
        await stopProvider();
        target = { network: 'demo', url: null };
        setLink('refused', `The demo network could not start: ${(error as Error).message}`, now() + 30_000);
        retryTimer = setTimeout(() => void schedule(), 30_000);
        retryTimer.unref?.();
        return;
      }
    }
    let money: MoneyService;
    try {
      money = await o.money.load();
    } catch (error) {
      setLink('refused', `The wallet could not load: ${(error as Error).message}`);
      return;
    }
    if (!(await readyWallet(money, next.network === 'demo'))) {
      await stopProvider();
      target = next;
      return;
    }
    try {
      money.wallet.network();
    } catch (error) {
      await stopProvider();
      target = next;
      setLink('refused', `${(error as Error).message} The market pays through that network's escrow.`);
      return;
    }
    if (provider && provider.url === next.url && target.network === next.network) return;
    await stopProvider();
    target = next;
    const { MarketProvider } = await import('./provider.js');
    provider = new MarketProvider(next.url!, {
      home: o.home,
      db: money.db,
      log: o.log,
      runner: o.runner,
      images: o.images,
      money,
      agent: `offshift/${VERSION}`,
      listGpus: o.listGpus,
      settings,
      availability,
      scores: o.scores ?? (async () => new Map()),
      onLink: (state: LinkState, reason, nextRetryAt) => setLink(state === 'closed' ? 'off' : state, reason, nextRetryAt),
      onChange: changed,
      backoff: o.backoff,
      now,
    });
    provider.start();
  }

  async function stopProvider(): Promise<void> {
    const p = provider;
    provider = null;
    if (p) await p.stop();
  }

  function schedule(): Promise<void> {
    reconciling = reconciling.then(reconcile).catch((error: unknown) => o.log.error('marketplace reconcile failed', { error: (error as Error).message }));
    return reconciling;
  }

  async function status(): Promise<MarketStatus> {
    const e = effective();
    const s = e.ok ? e.value : defaultMarketSettings;
    const loaded = provider ? await o.money.load() : null;
    const meta = loaded ? loaded.wallet.tokenMeta() : { symbol: 'OFT', decimals: 18 };
    let offers: OfferRecord[] = [];
    let jobs: MarketJobRecord[] = [];
    let address: string | null = null;
    if (loaded) {
      address = loaded.wallet.address();
      offers = new MarketStore(loaded.db).recentOffers();
      jobs = (provider?.runningJobs() ?? []).map((j) => {
        const local = o.runner.get(j.row.local_job_id);
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
    let suggested: { price: bigint; basis: string } | null = null;
    try {
      const recent = loaded ? new MarketStore(loaded.db).recentGpuPrices() : [];
      suggested = o.suggestPrice ? o.suggestPrice(await o.listGpus(), o.scores ? await o.scores() : new Map(), recent) : null;
    } catch (error) {
      o.log.warn('no price suggestion', { error: (error as Error).message });
    }
    return {
      network: target.network,
      url: target.url,
      state: link.state,
      reason: link.reason,
      since: link.since,
      nextRetryAt: link.nextRetryAt,
      address,
      settings: s,
      locked: e.locked,
      suggestedPricePerGpuHour: suggested ? suggested.price.toString() : null,
      suggestionBasis: suggested?.basis ?? null,
      offers,
      jobs,
      tokenSymbol: meta.symbol,
      tokenDecimals: meta.decimals,
      demoJobs: target.network === 'demo' ? (o.demo?.jobs() ?? null) : null,
    };
  }

  function setSettings(patch: MarketPatch): void {
    checkMarketPatch(patch, effective(), o.schedule.policy.current);
    settingsStore.update('market', patch);
  }

  const handlers: MarketHandlers = {
    'market.status': async () => status(),
    'market.settings': async (patch) => {
      if (Object.keys(patch).length > 0) {
        setSettings(patch);
        await schedule();
      }
      return status();
    },
  };

  let unsubscribeBus: (() => void) | null = null;
  let unsubscribeSettings: (() => void) | null = null;

  return {
    handlers,
    status,
    provider: () => provider,
    start() {
      unsubscribeBus = o.bus.subscribe((event, payload) => {
        if (event === 'agent.state') provider?.advertiseSoon();
        else if (event === 'job.progress') provider?.pullProgress(payload as JobProgressEvent);
        else if (event === 'wallet.update') {
          const reason = (payload as { reason: string }).reason;
          if (reason === 'unlocked' || reason === 'created' || reason === 'imported' || reason === 'locked' || reason === 'settings') void schedule();
        }
      });
      unsubscribeSettings = settingsStore.onChange((section) => {
        if (section === 'market') void schedule();
        else provider?.advertiseSoon();
      });
      void schedule();
    },
    async stop() {
      stopped = true;
      unsubscribeBus?.();
      unsubscribeSettings?.();
      if (retryTimer) clearTimeout(retryTimer);
      if (updateTimer) clearTimeout(updateTimer);
      await reconciling;
      await stopProvider();
      await o.demo?.stop();
    },
  };
}
