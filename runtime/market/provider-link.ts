/** What the provider's parts (offer-desk.ts, market-jobs.ts) are given: the agent's services, and the provider's link to the market and its records. */
import type { JsonRpcProvider } from 'ethers';
import type { Gpu } from '../gpu/schema.js';
import type { ImageService } from '../images/service.js';
import type { JobRunner } from '../jobs/runner.js';
import type { Logger } from '../log.js';
import type { Db } from '../storage/database.js';
import type { MoneyService } from '../wallet/money.js';
import type { Advertisement, ProviderMessage } from '../../protocol/index.js';
import type { LinkState } from './connection.js';
import type { MarketSettings } from './settings.js';
import type { MarketStore } from './store.js';

export interface ProviderDeps {
  home: string;
  db: Db;
  log: Logger;
  runner: JobRunner;
  /** The image store: whether an offer's image fits before any pull, what is warm, pre-pulls (absent: images are not judged, advertised nor pre-pulled). */
  images?: Pick<ImageService, 'checkOffer' | 'advertised' | 'prePull'>;
  money: MoneyService;
  agent: string;
  listGpus: () => Promise<Gpu[]>;
  /** Effective market settings now. */
  settings: () => MarketSettings;
  /** The owner's availability now (schedule, idle, pause, policy) and seconds left in the schedule window. */
  availability: () => { run: boolean; state: Advertisement['availability']['state']; detail: string; windowSecondsLeft: number | null };
  scores: () => Promise<ReadonlyMap<string, number>>;
  onLink: (state: LinkState, reason: string, nextRetryAt: number | null) => void;
  onChange: () => void;
  now?: () => number;
  backoff?: { minMs: number; maxMs: number };
}

export interface ProviderLink {
  /** The market's URL. */
  url: string;
  store: MarketStore;
  now: () => number;
  /** Sends when connected; false when not. */
  send: (message: ProviderMessage) => boolean;
  connected: () => boolean;
  /** This wallet's address, checksummed. */
  address: () => string;
  network: () => { chainId: number; escrow: string };
  /** The RPC of the wallet's network, made on first use. */
  rpc: () => JsonRpcProvider;
  /** Something the advertisement is made of changed. */
  advertiseSoon: () => void;
  /** The protocol revision the market chose (1 until signed in). */
  revision: () => number;
}
