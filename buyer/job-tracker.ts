/** What the buyer keeps of one job it follows: each provider's attempt (its own payment channel), the reports, the output so far. */
import { getAddress } from 'ethers';
import type { JobRequest, MarketJobState } from '../protocol/index.js';
import type { AttemptResult, BuyerResult, OutputFile, SubmitOptions } from './types.js';

export type JobEnd = { state: MarketJobState; reason: string; detail: string; usageSeconds: number; exitCode: number | null };

/** One output file being received, chunk by chunk. */
export interface IncomingFile {
  chunks: Buffer[];
  next: number;
  bytes: number;
  refused: boolean;
}

/** One provider's attempt at the job: its own payment channel, its own report sequence. */
export class AttemptChannel {
  assignedAt: number | null = null;
  /** When this buyer saw the provider start the job (`running`); the pay clock runs from it (or from `assignedAt`). */
  startedAt: number | null = null;
  lastSeq: number | null = null;
  lastUsage = 0;
  /** The seconds the vouchers pay so far, and when the buyer paid them. */
  paidSeconds = 0;
  paidAt: number | null = null;
  paid = '0';
  sawFinal = false;
  ended: JobEnd | null = null;
  /** The provider's payout address, as the market named it when the provider accepted (revision 3): its vouchers pay it. Null: the provider. */
  payee: string | null = null;

  constructor(
    readonly attempt: number,
    readonly provider: string,
  ) {}

  get usageSeconds(): number {
    return Math.max(this.ended?.usageSeconds ?? 0, this.lastUsage);
  }
}

export class JobTracker {
  state: MarketJobState = 'queued';
  /** Oldest first; the last one is the provider running the job now (or the last that did). */
  attempts: AttemptChannel[] = [];
  ended: JobEnd | null = null;
  refused: { seq: number; problem: string }[] = [];
  capped: { seq: number; claimed: number; paid: number; problem: string }[] = [];
  outputs: OutputFile[] = [];
  /** Set once the provider sent more files than a job may write: told once, the rest dropped. */
  tooManyFiles = false;
  files = new Map<string, IncomingFile>();
  outputBytes = 0;
  chain: Promise<void> = Promise.resolve();
  finalWait: NodeJS.Timeout | null = null;
  resolve!: (r: BuyerResult) => void;
  reject!: (e: Error) => void;
  readonly result: Promise<BuyerResult>;

  constructor(
    readonly jobId: string,
    readonly job: JobRequest,
    readonly options: SubmitOptions,
  ) {
    this.result = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  get provider(): string | null {
    return this.attempts.at(-1)?.provider ?? null;
  }

  channel(provider: string): AttemptChannel | undefined {
    return this.attempts.find((a) => a.provider.toLowerCase() === provider.toLowerCase());
  }

  /** The channel of `provider`, opened as the next attempt when it is new. */
  open(provider: string, attempt = this.attempts.length + 1): AttemptChannel {
    let a = this.channel(provider);
    if (!a) this.attempts.push((a = new AttemptChannel(attempt, getAddress(provider.toLowerCase()))));
    return a;
  }

  /** The next attempt writes its own output from the start. */
  dropOutput(): void {
    this.files.clear();
    this.outputs = [];
    this.outputBytes = 0;
    this.tooManyFiles = false;
  }

  /** The job's result once it has ended, over every attempt. */
  toResult(ended: JobEnd): BuyerResult {
    const attempts: AttemptResult[] = this.attempts.map((a) => ({ attempt: a.attempt, provider: a.provider, usageSeconds: a.usageSeconds, paid: a.paid, state: a.ended?.state ?? ended.state }));
    return {
      jobId: this.jobId,
      state: ended.state,
      reason: ended.reason,
      detail: ended.detail,
      provider: this.provider,
      usageSeconds: attempts.length === 0 ? ended.usageSeconds : attempts.reduce((n, a) => n + a.usageSeconds, 0),
      paid: attempts.reduce((n, a) => n + BigInt(a.paid), 0n).toString(),
      attempts,
      exitCode: ended.exitCode,
      outputs: this.outputs,
      refusedReports: this.refused,
      cappedReports: this.capped,
    };
  }
}
