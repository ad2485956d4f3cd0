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
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { getAddress, id as keccakText, verifyMessage, Wallet, type Signer } from 'ethers';
import WebSocket from 'ws';
import { AppError } from '../runtime/errors.js';
import { parseMessage } from '../protocol/frames.js';
import {
  amountForSeconds,
  DEFAULT_MAX_ATTEMPTS,
  jobRequestSchema,
  MAX_ATTEMPTS,
  MAX_MESSAGE_BYTES,
  MAX_OUTPUT_BYTES,
  MAX_OUTPUT_FILES,
  PATHS,
  PROTOCOL_VERSION,
  signInMessage,
  toBuyerMessageSchema,
  usageReportText,
  type JobRequest,
  type JobRequestInput,
  type MarketJobState,
  type ToBuyerMessage,
  type UsageReport,
} from '../protocol/index.js';
import { signVoucher } from '../runtime/wallet/voucher.js';

export type BuyerEvent =
  | { type: 'submitted'; jobId: string }
  | { type: 'update'; jobId: string; state: MarketJobState; provider: string | null; reason: string; detail: string }
  /** `paid`: a voucher answered it; `problem`: why it was not paid, or paid for fewer seconds than it claims. */
  | { type: 'usage'; jobId: string; report: UsageReport; paid: boolean; problem: string | null }
  /** One provider's attempt is over (preempted) and the market places the job again: attempt `next` of `maxAttempts`. */
  | { type: 'attempt-ended'; jobId: string; attempt: number; provider: string; state: MarketJobState; usageSeconds: number; paid: string; next: number; maxAttempts: number }
  | { type: 'voucher'; jobId: string; cumulativeAmount: string }
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

const DEFAULT_VOUCHER_EXPIRY_S = 30 * 86_400;

/** Time slack allowed on a report's claimed seconds versus the job's maximum duration. */
const CLOCK_SLACK_S = 10;
/**
 * What a report may claim beyond the wall time the buyer saw pass: the provider starts counting
 * a moment before its `job-started` reaches the buyer, and rounds down to whole seconds.
 */
export const PAY_SKEW_S = 2;

type JobEnd = { state: MarketJobState; reason: string; detail: string; usageSeconds: number; exitCode: number | null };

/** One provider's attempt at the job: its own payment channel, its own report sequence. */
class AttemptChannel {
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

  constructor(
    readonly attempt: number,
    readonly provider: string,
  ) {}

  get usageSeconds(): number {
    return Math.max(this.ended?.usageSeconds ?? 0, this.lastUsage);
  }
}

class JobTracker {
  state: MarketJobState = 'queued';
  /** Oldest first; the last one is the provider running the job now (or the last that did). */
  attempts: AttemptChannel[] = [];
  ended: JobEnd | null = null;
  refused: { seq: number; problem: string }[] = [];
  capped: { seq: number; claimed: number; paid: number; problem: string }[] = [];
  outputs: OutputFile[] = [];
  /** Set once the provider sent more files than a job may write: told once, the rest dropped. */
  tooManyFiles = false;
  files = new Map<string, { chunks: Buffer[]; next: number; bytes: number; refused: boolean }>();
  outputBytes = 0;
  chain: Promise<void> = Promise.resolve();
  finalWait: NodeJS.Timeout | null = null;
  resolve!: (r: BuyerResult) => void;
  reject!: (e: Error) => void;
  readonly result: Promise<BuyerResult>;

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
}

function sameUrl(text: string, url: URL): boolean {
  try {
    return new URL(text).href === url.href;
  } catch {
    return false;
  }
}

/** Joins a relative output path under `dir`, refusing escapes and symbolic links on the way. */
export function safeOutputPath(dir: string, rel: string): string {
  const root = path.resolve(dir);
  const target = path.resolve(root, rel);
  if (path.isAbsolute(rel) || !target.startsWith(root + path.sep)) throw new Error(`"${rel}" leaves the output folder`);
  let at = root;
  for (const part of path.relative(root, target).split(path.sep)) {
    at = path.join(at, part);
    try {
      if (fs.lstatSync(at).isSymbolicLink()) throw new Error(`"${rel}" goes through a symbolic link`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw error;
    }
  }
  return target;
}

/**
 * Checks a usage report against what the buyer knows. Returns the problem, or null when it is
 * good to pay. Pure apart from signature recovery.
 */
export function checkUsageReport(
  report: UsageReport,
  ctx: { jobId: string; job: JobRequest; pricePerHour: string; provider: string | null; lastSeq: number | null; lastUsage: number; usedBefore?: number },
): string | null {
  if (report.jobId !== ctx.jobId) return `the report is for job ${report.jobId}`;
  if (ctx.pricePerHour !== ctx.job.pricePerHour) return `the market relays a price of ${ctx.pricePerHour}, not the job's ${ctx.job.pricePerHour}`;
  if (ctx.provider && report.provider.toLowerCase() !== ctx.provider.toLowerCase()) return `the report names ${report.provider}, not the job's provider ${ctx.provider}`;
  const { signature, ...unsigned } = report;
  let signer: string;
  try {
    signer = verifyMessage(usageReportText(unsigned), signature);
  } catch {
    return 'the signature cannot be read';
  }
  if (signer !== getAddress(report.provider.toLowerCase())) return `the signature is not the provider's (it recovers ${signer})`;
  if (ctx.lastSeq !== null && report.seq <= ctx.lastSeq) return `report ${report.seq} is not after report ${ctx.lastSeq}`;
  if (report.usageSeconds < ctx.lastUsage) return `usage went back from ${ctx.lastUsage} s to ${report.usageSeconds} s`;
  const due = amountForSeconds(report.usageSeconds, BigInt(ctx.job.pricePerHour));
  if (report.amountDue !== due.toString()) return `the amount due ${report.amountDue} is not ${report.usageSeconds} s at ${ctx.job.pricePerHour} per hour (${due})`;
  const maxSeconds = ctx.job.maxDurationSeconds + ctx.job.reportIntervalSeconds + CLOCK_SLACK_S;
  const usedBefore = ctx.usedBefore ?? 0;
  if (report.usageSeconds + usedBefore > maxSeconds) return usedBefore > 0 ? `${report.usageSeconds} s, after ${usedBefore} s run by earlier attempts, is beyond the job's maximum duration` : `${report.usageSeconds} s is beyond the job's maximum duration`;
  return null;
}

/**
 * How many of a good report's claimed seconds the buyer pays: never more than the wall time it saw
 * pass since the job started (its own clock, from the `running` it was told, else the assignment),
 * nor more growth since its last paid report than the time since that report: usage cannot run
 * faster than the clock, so seconds not claimed when they passed (a pause) cannot be claimed later.
 * Each bound allows PAY_SKEW_S. Pure.
 */
export function payableSeconds(claimed: number, ctx: { startedAt: number | null; paidSeconds: number; paidAt: number | null; now: number }): { seconds: number; problem: string | null } {
  const start = ctx.startedAt ?? ctx.now;
  const sinceStart = Math.floor(Math.max(0, ctx.now - start) / 1000) + PAY_SKEW_S;
  const sinceLast = ctx.paidSeconds + Math.floor(Math.max(0, ctx.now - (ctx.paidAt ?? start)) / 1000) + PAY_SKEW_S;
  const seconds = Math.max(ctx.paidSeconds, Math.min(claimed, sinceStart, sinceLast));
  if (seconds >= claimed) return { seconds: claimed, problem: null };
  const why =
    sinceStart <= sinceLast
      ? `it claims ${claimed} s, but only ${sinceStart - PAY_SKEW_S} s have passed since the job started (${PAY_SKEW_S} s allowed for delays)`
      : `it claims ${claimed - ctx.paidSeconds} s more than the last paid report, but only ${sinceLast - ctx.paidSeconds - PAY_SKEW_S} s have passed since it (${PAY_SKEW_S} s allowed for delays)`;
  return { seconds, problem: `paid ${seconds} s of the ${claimed} s claimed: ${why}` };
}

export class BuyerClient {
  private ws: WebSocket | null = null;
  private readonly jobs = new Map<string, JobTracker>();
  private readonly submits = new Map<string, { resolve: (jobId: string) => void; reject: (e: Error) => void }>();
  private refCounter = 0;
  private closed = false;
  /** What the buyer pays is measured on its own clock. */
  private readonly now = Date.now;
  chainId = 0;
  escrow = '';

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
    const base = this.options.market.replace(/\/+$/, '');
    let url: URL;
    try {
      url = new URL(base + PATHS.buyer);
    } catch {
      return Promise.reject(new AppError('usage', `"${this.options.market}" is not a market URL (ws://host:port).`));
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return Promise.reject(new AppError('usage', `The market URL must start with ws:// or wss://, not ${url.protocol}//.`));
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false, handshakeTimeout: this.options.timeoutMs ?? 15_000 });
      let welcomed = false;
      const fail = (error: Error) => {
        clearTimeout(timer);
        ws.terminate();
        reject(error);
      };
      const timer = setTimeout(() => fail(new AppError('market-unreachable', `The market at ${this.options.market} did not sign us in within ${Math.round((this.options.timeoutMs ?? 15_000) / 1000)} s.`)), this.options.timeoutMs ?? 15_000);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', versions: [PROTOCOL_VERSION], role: 'buyer', agent: (this.options.agent ?? 'offshift-buyer').slice(0, 64) })));
      ws.on('error', (error) => {
        if (!welcomed) fail(new AppError('market-unreachable', `Cannot reach the market at ${this.options.market}: ${error.message}. Is \`offshift market serve\` running?`));
      });
      ws.on('close', (code, reason) => {
        if (!welcomed) fail(new AppError('market-refused', `The market closed the connection (${code} ${reason.toString() || 'no reason'}).`));
        else if (this.ws === ws) this.lost(`closed ${code} ${reason.toString()}`.trim());
      });
      ws.on('message', (data, isBinary) => {
        const parsed = parseMessage(toBuyerMessageSchema, data, isBinary);
        if (!parsed.ok) {
          this.emit({ type: 'market-error', jobId: null, code: parsed.code, message: `The market sent a malformed message: ${parsed.message}` });
          return;
        }
        const msg = parsed.message;
        if (!welcomed) {
          if (msg.type === 'challenge') {
            // Sign only for the market dialed: a challenge naming another host or URL comes through a relay.
            if (msg.domain !== url.host) return fail(new AppError('market-refused', `The market asks us to sign in to "${msg.domain}", but we dialed ${url.host}: refused (a relay, or the market's public URL is not the address given with --market).`));
            if (!sameUrl(msg.uri, url)) return fail(new AppError('market-refused', `The market asks us to sign in at "${msg.uri.slice(0, 200)}", but we dialed ${url.href}: refused.`));
            const text = signInMessage({ domain: msg.domain, address: this.address, uri: msg.uri, chainId: msg.chainId, nonce: msg.nonce, issuedAt: msg.issuedAt, expirationTime: msg.expiresAt, role: 'buyer' });
            this.signer.signMessage(text).then(
              (signature) => ws.send(JSON.stringify({ type: 'sign-in', message: text, signature })),
              (error: unknown) => fail(new AppError('sign-in-failed', `Could not sign in: ${(error as Error).message}`)),
            );
          } else if (msg.type === 'welcome') {
            if (this.options.expectChainId !== undefined && msg.chainId !== this.options.expectChainId) return fail(new AppError('wrong-chain', `The market is on chain ${msg.chainId}, not ${this.options.expectChainId}.`));
            if (this.options.expectEscrow && msg.escrow.toLowerCase() !== this.options.expectEscrow.toLowerCase()) return fail(new AppError('wrong-escrow', `The market uses escrow ${msg.escrow}, not ${this.options.expectEscrow}.`));
            welcomed = true;
            clearTimeout(timer);
            this.chainId = msg.chainId;
            this.escrow = getAddress(msg.escrow.toLowerCase());
            this.ws = ws;
            resolve();
          } else if (msg.type === 'error') {
            fail(new AppError(msg.code === 'sign-in-refused' ? 'sign-in-refused' : 'market-refused', `The market refused us: ${msg.message}`));
          }
          return;
        }
        this.onMessage(msg);
      });
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
    const job = jobRequestSchema.parse({ ...input, outputMiB: outputDir === null ? 0 : (input.outputMiB ?? 16) });
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

  private readonly early = new Map<string, ToBuyerMessage[]>();

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
        const jobId = msg.type === 'usage' ? msg.report.jobId : msg.type === 'output' ? msg.chunk.jobId : msg.type === 'job-ended' ? msg.end.jobId : msg.jobId;
        const tracker = this.jobs.get(jobId);
        if (tracker) this.onJobMessage(tracker, msg);
        else {
          // A job whose id just came back and whose tracker is not made yet: kept for submit() to replay.
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
      // The next attempt writes its own output from the start.
      t.files.clear();
      t.outputs = [];
      t.outputBytes = 0;
      t.tooManyFiles = false;
      this.emit({ type: 'attempt-ended', jobId: t.jobId, attempt: a.attempt, provider: a.provider, state: msg.end.state, usageSeconds: a.usageSeconds, paid: a.paid, next: msg.next, maxAttempts: msg.maxAttempts }, t);
    } else if (msg.type === 'usage') {
      await this.onUsage(t, msg.report, msg.pricePerHour);
    } else if (msg.type === 'output') {
      this.onOutput(t, msg.chunk);
    } else if (msg.type === 'job-ended') {
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
      jobId: keccakText(t.jobId),
      cumulativeAmount: cumulative,
      expiry: Math.floor(Date.now() / 1000) + (t.options.voucherExpirySeconds ?? DEFAULT_VOUCHER_EXPIRY_S),
    });
    this.send({ type: 'voucher', jobId: t.jobId, signed });
    a.paid = cumulative;
    this.emit({ type: 'usage', jobId: t.jobId, report, paid: true, problem: pay.problem }, t);
    this.emit({ type: 'voucher', jobId: t.jobId, cumulativeAmount: cumulative }, t);
    if (report.final && t.ended && t.finalWait && a === t.attempts.at(-1)) {
      clearTimeout(t.finalWait);
      this.finish(t);
    }
  }

  private onOutput(t: JobTracker, chunk: Extract<ToBuyerMessage, { type: 'output' }>['chunk']): void {
    const dir = t.options.outputDir ?? null;
    const refuse = (reason: string) => {
      const f = t.files.get(chunk.path);
      if (f?.refused) return;
      t.files.set(chunk.path, { chunks: [], next: 0, bytes: 0, refused: true });
      this.emit({ type: 'output-refused', jobId: t.jobId, path: chunk.path, reason }, t);
    };
    if (dir === null) return refuse('no output folder was given');
    let file = t.files.get(chunk.path);
    if (!file) {
      // Every path the provider names is counted, written or refused: empty files cost no bytes.
      if (t.files.size >= MAX_OUTPUT_FILES) {
        if (!t.tooManyFiles) this.emit({ type: 'output-refused', jobId: t.jobId, path: chunk.path, reason: `the provider sent more than ${MAX_OUTPUT_FILES} files; a job writes at most ${MAX_OUTPUT_FILES}, the rest are dropped` }, t);
        t.tooManyFiles = true;
        return;
      }
      t.files.set(chunk.path, (file = { chunks: [], next: 0, bytes: 0, refused: false }));
    }
    if (file.refused) return;
    if (chunk.index !== file.next) return refuse(`chunk ${chunk.index} came where chunk ${file.next} was expected`);
    const data = Buffer.from(chunk.data, 'base64');
    t.outputBytes += data.length;
    if (t.outputBytes > Math.min(MAX_OUTPUT_BYTES, t.job.outputMiB * 1024 * 1024)) return refuse('the output is larger than the job allows');
    file.chunks.push(data);
    file.bytes += data.length;
    file.next += 1;
    if (!chunk.last) return;
    const whole = Buffer.concat(file.chunks);
    file.chunks = [];
    const sha256 = crypto.createHash('sha256').update(whole).digest('hex');
    if (chunk.sha256 !== sha256) return refuse(`its sha256 is ${sha256}, not the announced ${chunk.sha256 ?? 'none'}`);
    let target: string;
    try {
      target = safeOutputPath(dir, chunk.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, whole);
    } catch (error) {
      return refuse((error as Error).message);
    }
    t.outputs.push({ path: chunk.path, file: target, bytes: whole.length, sha256 });
    this.emit({ type: 'output', jobId: t.jobId, path: chunk.path, file: target, bytes: whole.length }, t);
  }

  private finish(t: JobTracker): void {
    if (!t.ended) return;
    t.finalWait = null;
    this.jobs.delete(t.jobId);
    const attempts: AttemptResult[] = t.attempts.map((a) => ({ attempt: a.attempt, provider: a.provider, usageSeconds: a.usageSeconds, paid: a.paid, state: a.ended?.state ?? t.ended!.state }));
    t.resolve({
      jobId: t.jobId,
      state: t.ended.state,
      reason: t.ended.reason,
      detail: t.ended.detail,
      provider: t.provider,
      usageSeconds: attempts.length === 0 ? t.ended.usageSeconds : attempts.reduce((n, a) => n + a.usageSeconds, 0),
      paid: attempts.reduce((n, a) => n + BigInt(a.paid), 0n).toString(),
      attempts,
      exitCode: t.ended.exitCode,
      outputs: t.outputs,
      refusedReports: t.refused,
      cappedReports: t.capped,
    });
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

export interface SubmitJobOptions extends BuyerConnectOptions, SubmitOptions {
  job: JobRequestInput;
  /** Called once the market has given the job its id (for cancelling: `handle.cancel()`). */
  onSubmitted?: (handle: JobHandle) => void;
  signal?: AbortSignal;
}

/** Connects, submits one job, follows it to its end (paying each good report) and disconnects. */
export async function submitJob(options: SubmitJobOptions): Promise<BuyerResult> {
  const client = await BuyerClient.connect(options);
  try {
    const handle = await client.submit(options.job, { ...options, onEvent: undefined });
    options.onSubmitted?.(handle);
    if (options.signal) {
      if (options.signal.aborted) handle.cancel();
      else options.signal.addEventListener('abort', () => handle.cancel(), { once: true });
    }
    return await handle.result;
  } finally {
    client.close();
  }
}
