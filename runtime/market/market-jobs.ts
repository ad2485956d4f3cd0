/**
 * Market jobs this agent took, from the confirmation to the delivered ending: each runs through
 * the JobRunner as one more source of jobs, is paid through its PaidJob (usage reports,
 * vouchers), and its outputs and end are sent to the market, again after a reconnect or a
 * restart until the market has them.
 */
import path from 'node:path';
import { getAddress } from 'ethers';
import { AppError } from '../errors.js';
import { toJobId } from '../chain/job-id.js';
import { isFinalState, type Job } from '../jobs/schema.js';
import { marketStopReasons } from '../jobs/outcome.js';
import { ranMsFromEvents } from '../jobs/store.js';
import type { SignedVoucher } from '../wallet/schema.js';
import { PAYEE_REVISION, type MarketJobState } from '../../protocol/index.js';
import { isLoopbackHost } from './connection.js';
import { fetchInputs } from './inputs.js';
import type { HeldOffer } from './offer-desk.js';
import { localIdFor, offerToSpec } from './offer-spec.js';
import { readOutputChunks } from './output-chunks.js';
import { PaidJob } from './paid-job.js';
import type { ProviderDeps, ProviderLink } from './provider-link.js';
import type { MarketJobRow } from './store.js';
import { escrowReader, receiveMarketVoucher, type EscrowReader } from './voucher-intake.js';

export class MarketJobs {
  private readonly jobs = new Map<string, PaidJob>();
  /** Jobs whose report clock has started (once each). */
  private readonly timerStarted = new Set<string>();

  constructor(
    private readonly d: ProviderDeps,
    private readonly link: ProviderLink,
  ) {}

  get(jobId: string): PaidJob | undefined {
    return this.jobs.get(jobId);
  }

  /** Market jobs not ended (an ended one stays tracked only until its ending is delivered). */
  /** The market job a local job runs (null: not a market job this provider tracks). */
  byLocalId(localId: string): PaidJob | null {
    return this.running().find((j) => j.row.local_job_id === localId) ?? null;
  }

  running(): PaidJob[] {
    return [...this.jobs.values()].filter((j) => this.link.store.job(j.jobId)?.ended_at == null);
  }

  stopAll(): void {
    for (const j of this.jobs.values()) j.stop();
  }

  /** The market is back: it learns which jobs this agent still has, payment clocks restart, undelivered endings go. */
  reconnected(): void {
    const open = this.link.store.undelivered();
    this.link.send({ type: 'resume', jobs: open.slice(0, 64).map((r) => ({ jobId: r.job_id, usageSeconds: r.reported_seconds })) });
    for (const j of this.jobs.values()) j.reconnected();
    for (const row of open) if (row.ended_at !== null) void this.sendEnding(row);
  }

  /** The market confirmed our acceptance: the job is ours to run, within the reservation its offer holds. */
  async start(p: HeldOffer): Promise<void> {
    const { offer } = p;
    const { job } = offer;
    const localId = localIdFor(this.d.runner, offer.jobId);
    const row: MarketJobRow = {
      job_id: offer.jobId,
      local_job_id: localId,
      market_url: this.link.url,
      buyer: getAddress(offer.buyer),
      price_per_hour: job.pricePerHour,
      report_interval_s: job.reportIntervalSeconds,
      chain_id: offer.chainId,
      escrow: getAddress(offer.escrow),
      accepted_at: this.link.now(),
      // The payout address advertised to the market, which named it to the buyer: every voucher must pay it.
      payee: this.link.revision() >= PAYEE_REVISION ? this.d.money.wallet.payoutAddress() : null,
      report_seq: 0,
      reported_seconds: 0,
      paid_up_to: '0',
      last_voucher_at: null,
      voucher_problem: null,
      ended_at: null,
      end_state: null,
      end_reason: null,
      final_sent: 0,
    };
    try {
      // A job id is taken once (acceptance declines one this agent has seen): this never replaces a row.
      this.link.store.insertJob(row);
    } catch (error) {
      this.d.runner.reservations.release(p.reservation);
      throw error;
    }
    const tracked = this.track(row);
    const spec = offerToSpec(offer, localId);
    try {
      const inputs = job.inputs.length ? await fetchInputs(job.inputs, { allowLoopback: isLoopbackHost(new URL(this.link.url).hostname) }) : undefined;
      // The runner turns the offer's reservation into the job's, checked again against the capacity now.
      await this.d.runner.submit(spec, { inputs, reservation: p.reservation });
    } catch (error) {
      this.d.runner.reservations.release(p.reservation);
      const message = error instanceof AppError ? error.message : (error as Error).message;
      tracked.stop();
      this.jobs.delete(offer.jobId);
      const busy = error instanceof AppError && error.code === 'no-capacity';
      this.recordEnd(row, 'failed', busy ? 'busy' : 'sandbox-refused', busy ? message : `The sandbox refused the job: ${message}`, 0, null);
    }
    this.d.onChange();
    this.link.advertiseSoon();
  }

  private track(row: MarketJobRow): PaidJob {
    const job = new PaidJob(row, {
      db: this.d.db,
      log: this.d.log,
      now: this.link.now,
      provider: this.link.address(),
      signMessage: (text) => this.d.money.wallet.signMessage(text),
      usageSeconds: (localId) => Math.floor(ranMsFromEvents(this.d.runner.events(localId), this.link.now()) / 1000),
      send: (report) => this.link.send({ type: 'usage', report }),
      recordOwed: (r, amount, seconds) =>
        this.d.money.ledger.recordUsageReport({ chainId: r.chain_id, escrow: r.escrow, buyer: r.buyer, provider: this.link.address() }, { marketJobId: toJobId(r.job_id), amount, at: this.link.now(), usage: { seconds } }),
      connected: () => this.link.connected(),
      stopUnpaid: (r, detail) => void this.d.runner.stopJob(r.local_job_id, { state: 'cancelled', reason: marketStopReasons.unpaid, detail }).catch(() => {}),
      onChange: () => this.d.onChange(),
    });
    this.jobs.set(row.job_id, job);
    return job;
  }

  /** Checked against the job's channel, then counted or kept as refused evidence (voucher-intake.ts). */
  async voucher(jobId: string, signed: SignedVoucher): Promise<void> {
    const deps = {
      db: this.d.db,
      ledger: this.d.money.ledger,
      log: this.d.log,
      now: this.link.now,
      provider: this.link.address(),
      reader: (chainId: number, escrow: string) => this.escrowReaderFor(chainId, escrow),
      autoRedeem: () => this.d.money.wallet.autoRedeem(),
      onChange: () => this.d.onChange(),
    };
    await receiveMarketVoucher(deps, jobId, signed, this.jobs.get(jobId));
  }

  private escrowReaderFor(chainId: number, escrow: string): EscrowReader | null {
    try {
      const net = this.d.money.wallet.network();
      if (net.chainId !== chainId) return null;
      return escrowReader(this.link.rpc(), escrow);
    } catch {
      return null;
    }
  }

  jobChanged(job: Job): void {
    if (!job.marketJobId) return;
    const row = this.link.store.jobOfLocal(job.id);
    if (!row) return;
    if (job.state === 'running' || job.state === 'paused') {
      const tracked = this.jobs.get(row.job_id);
      if (job.state === 'running' && tracked && row.report_seq === 0 && job.startedAt !== null) {
        if (!this.timerStarted.has(row.job_id)) {
          this.timerStarted.add(row.job_id);
          tracked.start();
          this.link.send({ type: 'job-started', jobId: row.job_id });
        }
      } else if (tracked) this.link.send({ type: 'job-paused', jobId: row.job_id, paused: job.state === 'paused', detail: job.detail.slice(0, 2000) });
      this.link.advertiseSoon();
      return;
    }
    if (!isFinalState(job.state)) return;
    const tracked = this.jobs.get(row.job_id);
    tracked?.stop();
    this.timerStarted.delete(row.job_id);
    const seconds = job.usage ? Math.floor(job.usage.runMs / 1000) : row.reported_seconds;
    const state: MarketJobState = job.reason === marketStopReasons.unpaid ? 'unpaid' : job.reason === marketStopReasons.marketUnreachable ? 'market-unreachable' : job.state;
    void (async () => {
      // Kept in this.jobs until the ending is delivered: a final report that could not be sent
      // (no connection, e.g. the job ended while the agent was down) is resent on reconnect,
      // before the ending, so the buyer pays for the end of the run.
      if (tracked) await tracked.report(true, seconds);
      // The runner collects the job's /output after recording its end: wait for that.
      await this.d.runner.wait(job.id).catch(() => {});
      this.recordEnd(this.link.store.job(row.job_id)!, state, job.reason, job.detail, seconds, job.exitCode);
      this.link.advertiseSoon();
    })().catch((error: unknown) => this.d.log.error('ending a market job failed', { jobId: row.job_id, error: (error as Error).message }));
  }

  private recordEnd(row: MarketJobRow, state: MarketJobState, reason: string, detail: string, seconds: number, exitCode: number | null): void {
    this.link.store.recordEnd(row.job_id, { at: this.link.now(), state, endReason: `${reason}\n${exitCode ?? ''}\n${detail}`.slice(0, 2000), seconds });
    const updated = this.link.store.job(row.job_id)!;
    this.d.onChange();
    void this.sendEnding(updated);
  }

  /** The outputs, then the end; marked sent only when the market got it (else resent on reconnect). */
  private async sendEnding(row: MarketJobRow): Promise<void> {
    if (!this.link.connected() || row.final_sent) return;
    const [reason = '', exit = '', ...rest] = (row.end_reason ?? '').split('\n');
    for (const chunk of readOutputChunks(path.join(this.d.home, 'jobs', row.local_job_id, 'output'), row.job_id)) {
      if (!this.link.send({ type: 'output', chunk })) return;
    }
    const ok = this.link.send({
      type: 'job-ended',
      end: { jobId: row.job_id, state: (row.end_state ?? 'failed') as MarketJobState, reason: reason.slice(0, 64), detail: rest.join('\n').slice(0, 2000), usageSeconds: row.reported_seconds, exitCode: exit === '' ? null : Number(exit) },
    });
    if (!ok) return;
    this.link.store.markEndingSent(row.job_id);
    this.jobs.delete(row.job_id);
  }

  /** After an agent restart: re-track market jobs still running; resend endings not yet delivered. */
  recover(): void {
    for (const row of this.link.store.unended()) {
      const job = this.d.runner.get(row.local_job_id);
      if (!job) {
        this.recordEnd(row, 'failed', 'agent-restarted', 'The agent stopped before this job started.', row.reported_seconds, null);
        continue;
      }
      const tracked = this.track(row);
      if (isFinalState(job.state)) {
        this.jobChanged(job);
        continue;
      }
      if (job.state === 'running' || job.state === 'paused') {
        this.timerStarted.add(row.job_id);
        tracked.start();
      }
    }
  }
}
