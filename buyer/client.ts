/**
 * A buyer of the marketplace, as a library: connects to a market and signs in with the buyer's
 * own key, submits jobs, follows them, checks every usage report before paying it and answers
 * each good one with an EIP-712 voucher (runtime/wallet/voucher.ts), collects output files
 * (sha256 checked, no path escapes) and resolves with the job's result. Used by
 * `offshift buyer submit` and by the demo buyer, in-process.
 *
 * Nothing from the market or the provider is trusted: a report that does not recover to the
 * job's provider, claims a wrong amount or goes backwards is not paid, and no report is paid for
 * more time than the buyer itself saw pass since the job started (payableSeconds).
 */
import { getAddress, id as keccakText, Wallet, type Signer } from 'ethers';
import WebSocket from 'ws';
import { AppError } from '../runtime/errors.js';
import { amountForSeconds, DEFAULT_MAX_ATTEMPTS, IMAGES_REVISION, jobRequestSchema, MAX_ATTEMPTS, type JobRequest, type JobRequestInput, type ToBuyerMessage, type UsageReport } from '../protocol/index.js';
import { signVoucher } from '../runtime/wallet/voucher.js';
import { JobTracker, type AttemptChannel } from './job-tracker.js';
import { receiveOutputChunk } from './outputs.js';
import { checkUsageReport, payableSeconds } from './report-check.js';
import { signIn } from './sign-in.js';
import type { BuyerConnectOptions, BuyerEvent, JobHandle, SubmitOptions } from './types.js';

const DEFAULT_VOUCHER_EXPIRY_S = 30 * 86_400;

export class BuyerClient {
  private ws: WebSocket | null = null;
  private readonly jobs = new Map<string, JobTracker>();
  private readonly submits = new Map<string, { resolve: (jobId: string) => void; reject: (e: Error) => void }>();
  /** Messages of a job whose id just came back and whose tracker is not made yet: kept for submit() to replay. */
  private readonly early = new Map<string, ToBuyerMessage[]>();
  private refCounter = 0;
  private closed = false;
  /** What the buyer pays is measured on its own clock. */
  private readonly now = Date.now;
  chainId = 0;
  escrow = '';
  /** The protocol revision the market speaks on this connection (1: no image size, pull limit or pull progress). */
  revision = 1;
  private droppedSaid = false;

  private constructor(
    private readonly options: BuyerConnectOptions,
    private readonly signer: Signer,
    readonly address: string,
  ) {}

  /** Signed in now (false while reconnecting, and after close()). */
  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  static async connect(options: BuyerConnectOptions): Promise<BuyerClient> {
    const signer = typeof options.signer === 'string' ? new Wallet(options.signer) : options.signer;
    const client = new BuyerClient(options, signer, getAddress(await signer.getAddress()));
    await client.open();
    return client;
  }

  private emit(event: BuyerEvent, job?: JobTracker): void {
    try {
      this.options.onEvent?.(event);
      job?.options.onEvent?.(event);
    } catch {
      // A listener's mistake does not stop the job.
    }
  }

  /** Connects and signs in; resolves on `welcome`. */
  private open(): Promise<void> {
    return signIn(this.options, this.signer, this.address, {
      welcomed: ({ ws, chainId, escrow, revision }) => {
        this.chainId = chainId;
        this.escrow = escrow;
        this.revision = revision;
        this.ws = ws;
      },
      message: (msg) => this.onMessage(msg),
      closed: (ws, reason) => {
        if (this.ws === ws) this.lost(reason);
      },
      malformed: (code, message) => this.emit({ type: 'market-error', jobId: null, code, message }),
    });
  }

  /** The connection dropped: reconnect with backoff and re-attach open jobs, or fail them. */
  private lost(reason: string): void {
    this.ws = null;
    if (this.closed) return;
    this.emit({ type: 'disconnected', reason });
    const open = [...this.jobs.values()].filter((j) => !j.ended);
    if (this.options.reconnect === false || open.length === 0) {
      for (const j of open) j.reject(new AppError('market-unreachable', `The connection to the market was lost (${reason}).`));
      return;
    }
    const deadline = Date.now() + (this.options.reconnectForMs ?? 5 * 60_000);
    const attempt = async (delay: number) => {
      await new Promise((r) => setTimeout(r, delay * (0.8 + Math.random() * 0.4)));
      if (this.closed) return;
      try {
        await this.open();
        this.emit({ type: 'reconnected' });
        const ids = [...this.jobs.values()].filter((j) => !j.ended).map((j) => j.jobId);
        for (let i = 0; i < ids.length; i += 64) this.send({ type: 'attach', jobIds: ids.slice(i, i + 64) });
      } catch (error) {
        if (Date.now() > deadline) {
          for (const j of this.jobs.values()) if (!j.ended) j.reject(new AppError('market-unreachable', `The market stayed unreachable: ${(error as Error).message}`));
          return;
        }
        void attempt(Math.min(delay * 2, 10_000));
      }
    };
    void attempt(1000);
  }

  private send(message: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** Submits a job; resolves once the market gave it an id. `handle.result` resolves when it ends. */
  async submit(input: JobRequestInput, options: SubmitOptions = {}): Promise<JobHandle> {
    const outputDir = options.outputDir ?? null;
    if (options.maxAttempts !== undefined && (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1 || options.maxAttempts > MAX_ATTEMPTS)) throw new AppError('usage', `maxAttempts is a whole number from 1 to ${MAX_ATTEMPTS}.`);
    const job = this.forRevision(jobRequestSchema.parse({ ...input, outputMiB: outputDir === null ? 0 : (input.outputMiB ?? 16) }));
    const ref = `r${++this.refCounter}`;
    const jobId = await new Promise<string>((resolve, reject) => {
      if (!this.ws) return reject(new AppError('market-unreachable', 'Not connected to the market.'));
      this.submits.set(ref, { resolve, reject });
      this.send({ type: 'submit', ref, job, maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS });
    });
    const tracker = new JobTracker(jobId, job, options);
    this.jobs.set(jobId, tracker);
    this.emit({ type: 'submitted', jobId }, tracker);
    // Messages that raced ahead of `submitted` are replayed.
    for (const m of this.early.get(jobId) ?? []) this.onJobMessage(tracker, m);
    this.early.delete(jobId);
    return { jobId, result: tracker.result, cancel: () => this.send({ type: 'cancel', jobId }) };
  }

  /** The job as this market's revision reads it: a revision-1 market's strict schema knows no image size nor pull limit, so they are left out (and said once). */
  private forRevision(job: JobRequest): JobRequest {
    if (this.revision >= IMAGES_REVISION) return job;
    const { imageSizeBytes, maxPullSeconds, ...v1 } = job;
    const fields = [imageSizeBytes !== undefined ? 'imageSizeBytes' : null, maxPullSeconds !== undefined ? 'maxPullSeconds' : null].filter((f): f is string => f !== null);
    if (fields.length > 0 && !this.droppedSaid) {
      this.droppedSaid = true;
      this.emit({ type: 'fields-dropped', revision: this.revision, fields, message: `The market speaks protocol revision ${this.revision}, which has no ${fields.join(' nor ')}: jobs go without them (no provider checks the image size or the pull time), and no pull progress is shown.` });
    }
    return fields.length > 0 ? v1 : job;
  }

  private onMessage(msg: ToBuyerMessage): void {
    switch (msg.type) {
      case 'submitted': {
        const waiting = this.submits.get(msg.ref);
        this.submits.delete(msg.ref);
        if (waiting) this.early.set(msg.jobId, []);
        waiting?.resolve(msg.jobId);
        return;
      }
      case 'error': {
        const waiting = msg.ref ? this.submits.get(msg.ref) : undefined;
        if (waiting && msg.ref) {
          this.submits.delete(msg.ref);
          waiting.reject(new AppError(msg.code, `The market refused the job: ${msg.message}`));
          return;
        }
        const tracker = msg.ref ? this.jobs.get(msg.ref) : undefined;
        this.emit({ type: 'market-error', jobId: tracker?.jobId ?? null, code: msg.code, message: msg.message }, tracker);
        return;
      }
      case 'challenge':
      case 'welcome':
        return;
      default: {
        const jobId = msg.type === 'usage' ? msg.report.jobId : msg.type === 'output' ? msg.chunk.jobId : msg.type === 'job-ended' ? msg.end.jobId : msg.type === 'pull-progress' ? msg.progress.jobId : msg.jobId;
        const tracker = this.jobs.get(jobId);
        if (tracker) this.onJobMessage(tracker, msg);
        else {
          const list = this.early.get(jobId);
          if (list && list.length < 1000) list.push(msg);
        }
      }
    }
  }

  /** A job's messages are handled one after the other (signing is asynchronous). */
  private onJobMessage(t: JobTracker, msg: ToBuyerMessage): void {
    t.chain = t.chain.then(() => this.handleJobMessage(t, msg)).catch((error: unknown) => this.emit({ type: 'market-error', jobId: t.jobId, code: 'buyer-error', message: (error as Error).message }, t));
  }

  private async handleJobMessage(t: JobTracker, msg: ToBuyerMessage): Promise<void> {
    if (msg.type === 'job-update') {
      // A provider holding the job opens (or goes on with) its attempt's channel.
      if (msg.provider && (msg.state === 'assigned' || msg.state === 'running' || msg.state === 'paused')) {
        const a = t.open(msg.provider);
        // Named once, when the provider accepted; the provider refuses vouchers paying anyone else.
        if (msg.payee && a.payee === null && a.paid === '0') a.payee = getAddress(msg.payee.toLowerCase());
        if (!a.ended) {
          a.assignedAt ??= this.now();
          if (msg.state === 'running') a.startedAt ??= this.now();
        }
      }
      t.state = msg.state;
      this.emit({ type: 'update', jobId: t.jobId, state: msg.state, provider: msg.provider, reason: msg.reason, detail: msg.detail }, t);
    } else if (msg.type === 'attempt-ended') {
      const a = t.open(msg.provider, msg.attempt);
      if (a.ended) return; // told again on re-attach
      a.ended = msg.end;
      t.dropOutput();
      this.emit({ type: 'attempt-ended', jobId: t.jobId, attempt: a.attempt, provider: a.provider, state: msg.end.state, usageSeconds: a.usageSeconds, paid: a.paid, next: msg.next, maxAttempts: msg.maxAttempts }, t);
    } else if (msg.type === 'usage') {
      await this.onUsage(t, msg.report, msg.pricePerHour);
    } else if (msg.type === 'output') {
      receiveOutputChunk(t, msg.chunk, (event) => this.emit(event, t));
    } else if (msg.type === 'job-ended') {
      this.onJobEnded(t, msg);
    } else if (msg.type === 'pull-progress') {
      const { bytes, totalBytes, bytesPerSecond } = msg.progress;
      this.emit({ type: 'pull-progress', jobId: t.jobId, bytes, totalBytes, bytesPerSecond }, t);
    }
  }

  private onJobEnded(t: JobTracker, msg: Extract<ToBuyerMessage, { type: 'job-ended' }>): void {
    if (t.ended) return;
    const current = msg.provider ? t.open(msg.provider) : null;
    if (current) current.ended ??= msg.end;
    t.ended = msg.end;
    t.state = msg.end.state;
    this.emit({ type: 'update', jobId: t.jobId, state: msg.end.state, provider: msg.provider, reason: msg.end.reason, detail: msg.end.detail }, t);
    // The final report may follow the ending: wait a little for it when the job ran.
    if (!current || current.sawFinal || (msg.end.usageSeconds === 0 && current.lastSeq === null)) this.finish(t);
    else t.finalWait = setTimeout(() => this.finish(t), t.options.finalReportWaitMs ?? 10_000);
  }

  private async onUsage(t: JobTracker, report: UsageReport, pricePerHour: string): Promise<void> {
    // Each attempt pays its own provider on its own channel; a report naming a provider that ran no attempt is not paid.
    const a = t.attempts.length === 0 ? t.open(report.provider) : t.channel(report.provider);
    const usedBefore = t.attempts.filter((x) => x !== a).reduce((n, x) => n + x.usageSeconds, 0);
    const problem = a
      ? checkUsageReport(report, { jobId: t.jobId, job: t.job, pricePerHour, provider: a.provider, lastSeq: a.lastSeq, lastUsage: a.lastUsage, usedBefore })
      : `the report names ${report.provider}, which has run no attempt of this job`;
    if (problem || !a) {
      t.refused.push({ seq: report.seq, problem: problem ?? 'unknown provider' });
      this.emit({ type: 'usage', jobId: t.jobId, report, paid: false, problem }, t);
      return;
    }
    a.lastSeq = report.seq;
    a.lastUsage = report.usageSeconds;
    if (report.final) a.sawFinal = true;
    const capped = await this.pay(t, a, report);
    this.emit({ type: 'usage', jobId: t.jobId, report, paid: true, problem: capped }, t);
    this.emit({ type: 'voucher', jobId: t.jobId, cumulativeAmount: a.paid }, t);
    if (report.final && t.ended && t.finalWait && a === t.attempts.at(-1)) {
      clearTimeout(t.finalWait);
      this.finish(t);
    }
  }

  /** Answers a good report with a voucher for the seconds payable; returns why fewer were paid than claimed, if so. */
  private async pay(t: JobTracker, a: AttemptChannel, report: UsageReport): Promise<string | null> {
    const now = this.now();
    const pay = payableSeconds(report.usageSeconds, { startedAt: a.startedAt ?? a.assignedAt, paidSeconds: a.paidSeconds, paidAt: a.paidAt, now });
    if (pay.problem) t.capped.push({ seq: report.seq, claimed: report.usageSeconds, paid: pay.seconds, problem: pay.problem });
    a.paidSeconds = pay.seconds;
    a.paidAt = now;
    const owed = amountForSeconds(pay.seconds, BigInt(t.job.pricePerHour));
    const cumulative = owed > BigInt(a.paid) ? owed.toString() : a.paid;
    const signed = await signVoucher(this.signer, this.chainId, this.escrow, {
      buyer: this.address,
      provider: a.provider,
      ...(a.payee ? { payee: a.payee } : {}),
      jobId: keccakText(t.jobId),
      cumulativeAmount: cumulative,
      expiry: Math.floor(Date.now() / 1000) + (t.options.voucherExpirySeconds ?? DEFAULT_VOUCHER_EXPIRY_S),
    });
    this.send({ type: 'voucher', jobId: t.jobId, signed });
    a.paid = cumulative;
    return pay.problem;
  }

  private finish(t: JobTracker): void {
    if (!t.ended) return;
    t.finalWait = null;
    this.jobs.delete(t.jobId);
    t.resolve(t.toResult(t.ended));
  }

  /** Closes the connection (after what was sent has gone). Jobs still open are left to the market. */
  close(): void {
    this.closed = true;
    for (const t of this.jobs.values()) if (t.finalWait) clearTimeout(t.finalWait);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'bye');
  }
}
