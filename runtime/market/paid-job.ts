/**
 * One marketplace job while it runs, on the money side: a signed usage report every interval,
 * each voucher stored first and then checked, and the job stopped as `unpaid` when no valid
 * voucher came for two intervals. Its row in market_jobs is the record that survives a restart.
 */
import type { Db } from '../storage/database.js';
import type { Logger } from '../log.js';
import { isDiskFull } from '../storage/disk-full.js';
import { amountForSeconds, usageReportText, type UsageReport } from '../../protocol/index.js';
import { MarketStore, type MarketJobRow } from './store.js';

/** Slack on top of two intervals before a job counts as unpaid (the buyer's round trip). */
export const UNPAID_SLACK_MS = 2000;

export interface PaidJobDeps {
  db: Db;
  log: Logger;
  now: () => number;
  provider: string;
  signMessage: (text: string) => Promise<string>;
  /** Run seconds so far (pauses excluded). */
  usageSeconds: (localJobId: string) => number;
  /** Sends when connected; false when the report must wait for the connection. */
  send: (report: UsageReport) => boolean;
  /** Every report is recorded in the ledger (what is owed). */
  recordOwed: (row: MarketJobRow, amount: bigint, usageSeconds: number) => void;
  connected: () => boolean;
  stopUnpaid: (row: MarketJobRow, detail: string) => void;
  onChange: () => void;
}

export class PaidJob {
  row: MarketJobRow;
  private readonly store: MarketStore;
  private timer: NodeJS.Timeout | null = null;
  /** When payment was last up to date (job start, a valid voucher, or a reconnect). */
  private paidClockFrom: number;
  /** Due at the latest report and at the one before (a valid voucher covers the earlier). */
  private dueLatest = 0n;
  private duePrevious = 0n;
  /** The newest report not yet delivered (reports are cumulative: the newest covers the rest). */
  private unsent: UsageReport | null = null;
  private reporting: Promise<void> = Promise.resolve();
  /**
   * Set while this agent's own disk refuses its records (a report, a voucher): the buyer cannot
   * pay a report it was never sent, so that time is not held against it. Reports are cumulative:
   * the first one written once space returns claims every second run meanwhile.
   */
  private diskFull = false;

  constructor(
    row: MarketJobRow,
    private readonly d: PaidJobDeps,
  ) {
    this.row = row;
    this.store = new MarketStore(d.db);
    this.paidClockFrom = d.now();
    this.dueLatest = amountForSeconds(row.reported_seconds, this.price);
    this.duePrevious = this.dueLatest;
  }

  get price(): bigint {
    return BigInt(this.row.price_per_hour);
  }
  get intervalMs(): number {
    return this.row.report_interval_s * 1000;
  }
  get jobId(): string {
    return this.row.job_id;
  }

  /** Starts the report clock (the job is running, or was re-adopted after a restart). */
  start(): void {
    this.paidClockFrom = this.d.now();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** After a reconnect: payment could not flow meanwhile, so the clock restarts. */
  reconnected(): void {
    this.paidClockFrom = this.d.now();
    if (this.unsent && this.d.send(this.unsent)) this.unsent = null;
  }

  /** What a voucher must promise to count now. */
  minimumVoucher(): bigint {
    return this.duePrevious;
  }

  /** A valid voucher for `amount`: the job is paid up to there. */
  paid(amount: bigint): void {
    this.paidClockFrom = this.d.now();
    const current = BigInt(this.row.paid_up_to);
    const upTo = amount > current ? amount : current;
    this.store.setPaid(this.jobId, upTo, this.d.now());
    this.row = { ...this.row, paid_up_to: upTo.toString(), last_voucher_at: this.d.now(), voucher_problem: null };
    this.d.onChange();
  }

  /** A record of this job's money (its report, or a voucher) could not be written: the disk is full. */
  diskRefused(): void {
    if (!this.diskFull) this.d.log.warn('the disk is full: this job runs on, its usage is reported once space returns', { jobId: this.jobId });
    this.diskFull = true;
  }

  refused(problem: string): void {
    this.store.setVoucherProblem(this.jobId, problem);
    this.row = { ...this.row, voucher_problem: problem };
    this.d.onChange();
  }

  /** One report now; `final` when the job has ended (then with its final run seconds). */
  report(final: boolean, finalSeconds?: number): Promise<void> {
    this.reporting = this.reporting.then(() => this.sendReport(final, finalSeconds)).catch((error: unknown) => {
      if (isDiskFull(error)) return this.diskRefused();
      this.d.log.warn('usage report failed', { jobId: this.jobId, error: (error as Error).message });
    });
    return this.reporting;
  }

  private async tick(): Promise<void> {
    await this.report(false);
    if (!this.d.connected()) return; // the disconnect grace decides meanwhile
    if (this.diskFull) {
      this.paidClockFrom = this.d.now(); // our fault, not the buyer's: it was sent nothing to pay
      return;
    }
    const unpaidFor = this.d.now() - this.paidClockFrom;
    if (unpaidFor > 2 * this.intervalMs + UNPAID_SLACK_MS) {
      this.stop();
      const why = this.row.voucher_problem ? ` The last voucher did not count: ${this.row.voucher_problem}.` : '';
      this.d.stopUnpaid(this.row, `Stopped: the buyer has not paid for ${Math.round(unpaidFor / 1000)} s (two report intervals of ${this.row.report_interval_s} s).${why} Vouchers already received stay redeemable.`);
    }
  }

  private async sendReport(final: boolean, finalSeconds?: number): Promise<void> {
    const seconds = Math.max(this.row.reported_seconds, Math.floor(finalSeconds ?? this.d.usageSeconds(this.row.local_job_id)));
    const amount = amountForSeconds(seconds, this.price);
    const seq = this.row.report_seq + 1;
    const body = { jobId: this.jobId, seq, usageSeconds: seconds, amountDue: amount.toString(), at: this.d.now(), final, provider: this.d.provider };
    const report: UsageReport = { ...body, signature: await this.d.signMessage(usageReportText(body)) };
    this.store.setReported(this.jobId, seq, seconds);
    this.row = { ...this.row, report_seq: seq, reported_seconds: seconds };
    this.d.recordOwed(this.row, amount, seconds);
    this.duePrevious = this.dueLatest;
    this.dueLatest = amount;
    if (!this.d.send(report)) this.unsent = report;
    else this.unsent = null;
    if (this.diskFull) this.d.log.info('space is back: usage reported again', { jobId: this.jobId, usageSeconds: seconds });
    this.diskFull = false;
    this.d.onChange();
  }
}
