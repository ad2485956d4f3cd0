/** What the buyer library takes and gives: its options, the events it reports, a job's result. */
import type { Signer } from 'ethers';
import type { MarketJobState, UsageReport } from '../protocol/index.js';

export type BuyerEvent =
  | { type: 'submitted'; jobId: string }
  | { type: 'update'; jobId: string; state: MarketJobState; provider: string | null; reason: string; detail: string }
  /** `paid`: a voucher answered it; `problem`: why it was not paid, or paid for fewer seconds than it claims. */
  | { type: 'usage'; jobId: string; report: UsageReport; paid: boolean; problem: string | null }
  /** One provider's attempt is over (preempted) and the market places the job again: attempt `next` of `maxAttempts`. */
  | { type: 'attempt-ended'; jobId: string; attempt: number; provider: string; state: MarketJobState; usageSeconds: number; paid: string; next: number; maxAttempts: number }
  | { type: 'voucher'; jobId: string; cumulativeAmount: string }
  /** The provider is pulling the job's image (revision 2; pull time is not billed): compressed bytes fetched of those missing, and the rate (null: not known yet). */
  | { type: 'pull-progress'; jobId: string; bytes: number; totalBytes: number | null; bytesPerSecond: number | null }
  /** The market speaks an older revision: these fields of the job were not sent (said once per client). */
  | { type: 'fields-dropped'; revision: number; fields: string[]; message: string }
  | { type: 'output'; jobId: string; path: string; file: string; bytes: number }
  | { type: 'output-refused'; jobId: string; path: string; reason: string }
  | { type: 'market-error'; jobId: string | null; code: string; message: string }
  | { type: 'disconnected'; reason: string }
  | { type: 'reconnected' };

export interface OutputFile {
  path: string;
  file: string;
  bytes: number;
  sha256: string;
}

/** One provider's run of the job, paid on its own channel (buyer, provider, jobId). */
export interface AttemptResult {
  attempt: number;
  provider: string;
  usageSeconds: number;
  /** The last voucher's cumulative amount on this provider's channel, base units. */
  paid: string;
  state: MarketJobState;
}

export interface BuyerResult {
  jobId: string;
  state: MarketJobState;
  reason: string;
  detail: string;
  /** The provider of the last attempt (null: no provider ever took the job). */
  provider: string | null;
  /** Over every attempt. */
  usageSeconds: number;
  /** What the vouchers pay over every attempt (the sum of each channel's last cumulative amount), base units. */
  paid: string;
  /** Each provider that ran the job, in order: more than one when a provider was preempted and the market placed the job again. */
  attempts: AttemptResult[];
  exitCode: number | null;
  outputs: OutputFile[];
  /** Usage reports not paid, with why. */
  refusedReports: { seq: number; problem: string }[];
  /** Usage reports paid for fewer seconds than they claim (more than the buyer saw pass), with why. */
  cappedReports: { seq: number; claimed: number; paid: number; problem: string }[];
}

export interface BuyerConnectOptions {
  /** ws://host:port (the market's base URL; the buyer path is added). */
  market: string;
  /** The buyer's key: a Signer (ethers Wallet) or a hex private key. */
  signer: Signer | string;
  agent?: string;
  /** Refuse a market on another chain or escrow. */
  expectChainId?: number;
  expectEscrow?: string;
  /** How long connecting and signing in may take. */
  timeoutMs?: number;
  /** Reconnect (and re-attach open jobs) when the connection drops; default true, for up to `reconnectForMs`. */
  reconnect?: boolean;
  reconnectForMs?: number;
  onEvent?: (event: BuyerEvent) => void;
}

export interface SubmitOptions {
  /** Where output files are written; null: the job asks for no output. */
  outputDir?: string | null;
  onEvent?: (event: BuyerEvent) => void;
  /** Voucher expiry from now (default 30 days). */
  voucherExpirySeconds?: number;
  /** How long to wait for the final usage report after the job ended (default 10 s). */
  finalReportWaitMs?: number;
  /** How many providers may run the job in turn when one is preempted (1–10; the market's default, 3, when not given). */
  maxAttempts?: number;
}

export interface JobHandle {
  jobId: string;
  result: Promise<BuyerResult>;
  cancel(): void;
}
