/**
 * The reference market's core, apart from the transport: the registry of providers with their
 * latest advertisement, the buyers' sessions, each job's life (queued → offered → assigned →
 * running → ended), offers with their expiry, and the relaying of usage reports, vouchers, output
 * and endings between a job's provider and its buyer. server.ts feeds it validated messages.
 *
 * The market never signs anything and never holds a key: it checks what it relays (who sent it,
 * for which job) and records it.
 */
import crypto from 'node:crypto';
import { getAddress, id as keccakText } from 'ethers';
import type { Logger } from '../runtime/log.js';
import {
  MAX_OUTPUT_BYTES,
  MAX_OUTPUT_FILES,
  OUTPUT_CHUNK_BYTES,
  type Advertisement,
  type BuyerMessage,
  type JobRequest,
  type MarketJobState,
  type MarketJobView,
  type MarketProviderView,
  type ProviderMessage,
  type ToBuyerMessage,
  type ToProviderMessage,
} from '../protocol/index.js';
import { recoverVoucherSigner } from '../runtime/wallet/voucher.js';
import { pickFromBuckets, ScoreBuckets, type Candidate } from './matching.js';
import { ENDED_STATES, jobView, type AttemptRecord, type MarketStore, type StoredJob } from './store.js';

export interface Peer<T> {
  send(message: T): void;
  close(code: number, reason: string): void;
}

export interface MarketConfig {
  chainId: number;
  escrow: string;
  offerTtlMs: number;
  /** How long a disconnected provider's running jobs stay assigned before the market ends them as `market-unreachable`. */
  providerGraceMs: number;
  /** Jobs a buyer may have open (not ended) at once. */
  maxOpenJobsPerBuyer: number;
  /** How long an ended job stays in memory for late vouchers and a buyer's re-attach (it stays in the database). */
  endedLingerMs: number;
  /** How long a job may wait for a provider (from its submission, or from being placed again after a preemption) before it ends `expired`. */
  queueTimeoutMs: number;
  log: Logger;
  now?: () => number;
}

interface ProviderEntry extends Candidate {
  peer: Peer<ToProviderMessage> | null;
  connectedAt: number | null;
  adVersion: number;
  /** Offers standing, by id. */
  offers: Map<string, ActiveJob>;
  /** Jobs assigned to it and not ended. */
  running: Set<string>;
  /** Ends its jobs when it stays away past the grace. */
  graceTimer: NodeJS.Timeout | null;
}

interface StandingOffer {
  id: string;
  provider: string;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

interface ActiveJob extends StoredJob {
  /** Providers already offered this job, with the advertisement they had then: not asked again until they advertise anew. */
  tried: Map<string, number>;
  offer: StandingOffer | null;
  /** Messages for a buyer with no session following the job, delivered on `attach` (bounded). */
  pending: ToBuyerMessage[];
  pendingBytes: number;
  outputBytes: number;
  outputChunks: number;
  cancelRequested: boolean;
  lingerTimer: NodeJS.Timeout | null;
  /** Ends the job `expired` when no provider takes it within the queue timeout. */
  queueTimer: NodeJS.Timeout | null;
}

type JobEnd = { state: MarketJobState; reason: string; detail: string; usageSeconds: number; exitCode: number | null };

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export interface BuyerSession {
  address: string;
  peer: Peer<ToBuyerMessage>;
  following: Set<string>;
}

/** What one job may hold for an absent buyer. */
const MAX_PENDING_MESSAGES = 2000;
const MAX_PENDING_BYTES = Math.ceil((MAX_OUTPUT_BYTES * 4) / 3) + 4 * 1024 * 1024;
const MAX_OUTPUT_WIRE_BYTES = Math.ceil((MAX_OUTPUT_BYTES * 4) / 3) + 64 * 1024;
/** Every file starts a chunk: the most chunks a job's whole output can take (empty files cost no bytes). */
const MAX_OUTPUT_CHUNKS = MAX_OUTPUT_FILES + Math.ceil(MAX_OUTPUT_BYTES / OUTPUT_CHUNK_BYTES);

/** Random bytes drawn from a pool (one system call per 4 KiB, not one per id). */
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomId(prefix: string, bytes = 12): string {
  if (poolAt + bytes > pool.length) {
    pool = crypto.randomBytes(4096);
    poolAt = 0;
  }
  const id = prefix + pool.toString('base64url', poolAt, poolAt + bytes);
  poolAt += bytes;
  return id;
}

const err = (code: string, message: string, ref?: string) => ({ type: 'error' as const, code, message, ...(ref ? { ref } : {}) });

export class Market {
  private readonly providers = new Map<string, ProviderEntry>();
  private readonly jobs = new Map<string, ActiveJob>();
  private readonly buyers = new Map<string, Set<BuyerSession>>();
  private readonly offers = new Map<string, ActiveJob>();
  /** Connected, advertised providers by score, for matching. */
  private readonly ranked = new ScoreBuckets<ProviderEntry>();
  private readonly openByBuyer = new Map<string, number>();
  /** Advertisements are numbered market-wide, so a provider that comes back never reuses a number. */
  private adCounter = 0;
  private rematchScheduled = false;
  private closed = false;
  private readonly now: () => number;

  constructor(
    private readonly store: MarketStore,
    private readonly config: MarketConfig,
  ) {
    this.now = config.now ?? Date.now;
    this.recover();
  }

  // ── start and stop ───────────────────────────────────────────────────────

  /** After a restart: open jobs come back. Standing offers are void (queued again); assigned and running jobs wait for their provider's `resume`. */
  private recover(): void {
    for (const stored of this.store.activeJobs()) {
      const job = this.activate(stored);
      if (job.state === 'queued' || job.state === 'offered') {
        job.state = 'queued';
        this.store.saveJob(job);
        this.startQueueTimer(job);
      } else if (job.provider) {
        const p = this.providerEntry(job.provider);
        p.running.add(job.id);
        this.startGrace(p);
      }
    }
    for (const o of this.store.db.prepare('SELECT id FROM offers WHERE decision IS NULL').all() as { id: string }[]) {
      this.store.decideOffer(o.id, 'withdrawn', 'market-restarted', 'The market restarted while the offer stood.', this.now());
    }
    if (this.jobs.size > 0) this.config.log.info('market recovered open jobs', { jobs: this.jobs.size });
    this.scheduleRematch();
  }

  close(): void {
    this.closed = true;
    for (const job of this.jobs.values()) {
      if (job.offer) clearTimeout(job.offer.timer);
      if (job.lingerTimer) clearTimeout(job.lingerTimer);
      if (job.queueTimer) clearTimeout(job.queueTimer);
    }
    for (const p of this.providers.values()) if (p.graceTimer) clearTimeout(p.graceTimer);
  }

  private activate(stored: StoredJob): ActiveJob {
    const job: ActiveJob = { ...stored, tried: new Map(), offer: null, pending: [], pendingBytes: 0, outputBytes: 0, outputChunks: 0, cancelRequested: false, lingerTimer: null, queueTimer: null };
    this.jobs.set(job.id, job);
    if (!ENDED_STATES.has(job.state)) this.openByBuyer.set(job.buyer, (this.openByBuyer.get(job.buyer) ?? 0) + 1);
    return job;
  }

  private providerEntry(address: string): ProviderEntry {
    let p = this.providers.get(address);
    if (!p) {
      p = { address, ad: null, connected: false, reservedSlots: 0, reservedGpus: 0, lastOfferedAt: 0, peer: null, connectedAt: null, adVersion: 0, offers: new Map(), running: new Set(), graceTimer: null };
      this.providers.set(address, p);
    }
    return p;
  }

  // ── providers ────────────────────────────────────────────────────────────

  providerConnected(address: string, peer: Peer<ToProviderMessage>): void {
    const old = this.providers.get(address)?.peer;
    if (old && old !== peer) {
      this.providerGone(address, old);
      old.close(4001, 'replaced by a newer connection of the same provider');
    }
    // (providerGone may have dropped the entry.)
    const p = this.providerEntry(address);
    p.peer = peer;
    p.connected = true;
    p.connectedAt = this.now();
    p.ad = null; // a fresh advertisement is expected
    this.ranked.remove(p);
    this.config.log.info('provider connected', { provider: address });
  }

  providerGone(address: string, peer: Peer<ToProviderMessage>): void {
    const p = this.providers.get(address);
    if (!p || p.peer !== peer || this.closed) return;
    p.peer = null;
    p.connected = false;
    p.connectedAt = null;
    this.ranked.remove(p);
    for (const job of [...p.offers.values()]) this.closeOffer(job, 'withdrawn', 'provider-disconnected', 'The provider disconnected while the offer stood.', false);
    for (const jobId of p.running) {
      const job = this.jobs.get(jobId);
      if (job) this.toBuyer(job, { type: 'job-update', jobId, state: job.state, provider: job.provider, reason: 'provider-disconnected', detail: `The provider disconnected; it keeps running the job for its grace period and reconnects. The market waits ${Math.round(this.config.providerGraceMs / 1000)} s.` });
    }
    if (p.running.size > 0) this.startGrace(p);
    if (p.running.size === 0 && p.offers.size === 0) this.providers.delete(address);
    this.config.log.info('provider disconnected', { provider: address, running: p.running.size });
    this.scheduleRematch();
  }

  /** Past the grace with no `resume`, the provider's jobs end as `market-unreachable` (the provider stops them on its side for the same reason). */
  private startGrace(p: ProviderEntry): void {
    if (p.graceTimer) clearTimeout(p.graceTimer);
    if (this.closed) return;
    p.graceTimer = setTimeout(() => {
      p.graceTimer = null;
      for (const jobId of [...p.running]) {
        const job = this.jobs.get(jobId);
        if (job) this.endJob(job, { state: 'market-unreachable', reason: 'market-unreachable', detail: 'The provider did not come back within the grace period.', usageSeconds: job.usageSeconds, exitCode: null });
      }
      if (!p.connected && p.offers.size === 0) this.providers.delete(p.address);
    }, this.config.providerGraceMs);
  }

  /** Handles one valid message from a signed-in provider. Returns an error to send (counted as malformed) or null. */
  fromProvider(address: string, peer: Peer<ToProviderMessage>, msg: ProviderMessage): ReturnType<typeof err> | null {
    const p = this.providers.get(address);
    if (!p || p.peer !== peer) return err('not-connected', 'This connection was replaced by a newer one.');
    switch (msg.type) {
      case 'hello':
      case 'sign-in':
        return err('already-signed-in', 'The first exchange is over: this connection is signed in.');
      case 'advertise':
        return this.advertise(p, msg.ad);
      case 'offer-reply':
        return this.offerReply(p, msg.offerId, msg.accept, msg.reason, msg.detail);
      case 'job-started': {
        const job = this.ownJob(p, msg.jobId);
        if (!job) return err('unknown-job', `Job ${msg.jobId} is not assigned to you.`, msg.jobId);
        this.setState(job, 'running', 'started', 'The provider started the job.');
        return null;
      }
      case 'job-paused': {
        const job = this.ownJob(p, msg.jobId);
        if (!job) return err('unknown-job', `Job ${msg.jobId} is not assigned to you.`, msg.jobId);
        this.setState(job, msg.paused ? 'paused' : 'running', msg.paused ? 'paused' : 'resumed', msg.detail);
        return null;
      }
      case 'usage':
        return this.usage(p, msg.report);
      case 'output': {
        const job = this.ownJob(p, msg.chunk.jobId);
        if (!job) return err('unknown-job', `Job ${msg.chunk.jobId} is not assigned to you.`, msg.chunk.jobId);
        job.outputBytes += msg.chunk.data.length;
        job.outputChunks += 1;
        if (job.outputBytes > MAX_OUTPUT_WIRE_BYTES) return err('output-too-large', `A job relays at most ${MAX_OUTPUT_BYTES} bytes of output; the rest is dropped.`, job.id);
        if (job.outputChunks > MAX_OUTPUT_CHUNKS) return err('output-too-large', `A job relays at most ${MAX_OUTPUT_FILES} output files (${MAX_OUTPUT_CHUNKS} chunks); the rest is dropped.`, job.id);
        this.toBuyer(job, { type: 'output', chunk: msg.chunk });
        return null;
      }
      case 'job-ended': {
        const job = this.ownJob(p, msg.end.jobId);
        if (!job) return err('unknown-job', `Job ${msg.end.jobId} is not assigned to you.`, msg.end.jobId);
        if (!ENDED_STATES.has(msg.end.state)) return err('invalid-message', `"${msg.end.state}" is not a final state.`, job.id);
        if (msg.end.state === 'preempted') this.preempted(job, p, msg.end);
        else this.endJob(job, msg.end);
        return null;
      }
      case 'resume':
        this.resume(p, msg.jobs);
        return null;
      case 'error':
        // The provider could not take something the market sent (a malformed offer, a duplicate offerId).
        this.config.log.warn('the provider reported an error', { provider: address, code: msg.code, message: msg.message.slice(0, 200), ref: msg.ref ?? null });
        return null;
    }
  }

  private ownJob(p: ProviderEntry, jobId: string): ActiveJob | null {
    const job = this.jobs.get(jobId);
    if (!job || job.provider !== p.address || ENDED_STATES.has(job.state)) return null;
    return job;
  }

  private advertise(p: ProviderEntry, ad: Advertisement): null {
    p.ad = ad;
    p.adVersion = ++this.adCounter;
    this.ranked.update(p);
    // What the new advertisement does not know yet: the offers still standing.
    p.reservedSlots = p.offers.size;
    p.reservedGpus = [...p.offers.values()].reduce((n, j) => n + j.request.gpus, 0);
    this.scheduleRematch();
    return null;
  }

  private offerReply(p: ProviderEntry, offerId: string, accept: boolean, reason: string | null, detail: string): ReturnType<typeof err> | null {
    const job = this.offers.get(offerId);
    if (!job || !job.offer || job.offer.id !== offerId) {
      // Late: expired, withdrawn or unknown. An accept is answered so the provider does not run it.
      if (accept) p.peer?.send({ type: 'offer-withdrawn', offerId, reason: 'expired' });
      return null;
    }
    if (job.offer.provider !== p.address) return err('unknown-offer', 'That offer was not made to you.', offerId);
    if (accept && this.now() > job.offer.expiresAt) {
      this.closeOffer(job, 'expired', 'expired', 'Accepted after the offer expired.', true);
      return null;
    }
    if (!accept) {
      this.closeOffer(job, 'declined', reason ?? 'declined', detail, false);
      return null;
    }
    const offer = job.offer;
    clearTimeout(offer.timer);
    this.offers.delete(offer.id);
    p.offers.delete(offer.id);
    job.offer = null;
    this.stopQueueTimer(job);
    // The slot stays reserved until the provider's next advertisement counts the job.
    job.provider = p.address;
    job.state = 'assigned';
    job.reason = 'accepted';
    job.detail = detail;
    p.running.add(job.id);
    const at = this.now();
    this.store.db.transaction(() => {
      this.store.decideOffer(offer.id, 'accepted', null, detail, at);
      this.store.saveJob(job);
    })();
    p.peer?.send({ type: 'job-confirmed', jobId: job.id, offerId: offer.id });
    this.toBuyer(job, { type: 'job-update', jobId: job.id, state: 'assigned', provider: p.address, reason: 'accepted', detail: 'A provider accepted the job.' });
    return null;
  }

  private usage(p: ProviderEntry, report: Extract<ProviderMessage, { type: 'usage' }>['report']): ReturnType<typeof err> | null {
    const job = this.jobs.get(report.jobId);
    // A final report may follow job-ended; reports for ended jobs are still relayed to the buyer so it can pay the end.
    // So may the final report of an earlier attempt (its provider was preempted): it goes on that attempt's channel.
    const earlier = job && job.provider !== p.address ? (job.attempts.find((a) => a.provider === p.address) ?? null) : null;
    if (!job || (job.provider !== p.address && !earlier)) return err('unknown-job', `Job ${report.jobId} is not assigned to you.`, report.jobId);
    if (report.provider.toLowerCase() !== p.address.toLowerCase()) return err('invalid-report', 'A usage report names its sender as provider.', job.id);
    const lastSeq = earlier ? earlier.lastSeq : job.lastSeq;
    if (lastSeq !== null && report.seq <= lastSeq) return err('stale-report', `Report ${report.seq} is not after report ${lastSeq}.`, job.id);
    const at = this.now();
    if (earlier) {
      earlier.lastSeq = report.seq;
      earlier.usageSeconds = Math.max(earlier.usageSeconds, report.usageSeconds);
      this.store.db.transaction(() => {
        this.store.insertUsage(report, earlier.attempt, at);
        this.store.saveAttemptUsage(job.id, earlier);
      })();
    } else {
      job.lastSeq = report.seq;
      job.usageSeconds = report.usageSeconds;
      if (job.state === 'assigned') job.state = 'running';
      this.store.db.transaction(() => {
        this.store.insertUsage(report, job.attempt, at);
        this.store.saveJob(job);
      })();
    }
    this.toBuyer(job, { type: 'usage', report, pricePerHour: job.request.pricePerHour });
    return null;
  }

  private resume(p: ProviderEntry, jobs: { jobId: string; usageSeconds: number }[]): void {
    if (p.graceTimer) clearTimeout(p.graceTimer);
    p.graceTimer = null;
    const named = new Set(jobs.map((j) => j.jobId));
    const answer = jobs.map(({ jobId, usageSeconds }) => {
      const job = this.jobs.get(jobId);
      const known = !!job && job.provider === p.address && !ENDED_STATES.has(job.state);
      if (known && job) {
        p.running.add(jobId);
        if (usageSeconds > job.usageSeconds) job.usageSeconds = usageSeconds;
        this.store.saveJob(job);
      }
      return { jobId, known };
    });
    p.peer?.send({ type: 'resumed', jobs: answer });
    for (const { jobId, known } of answer) {
      const job = this.jobs.get(jobId);
      if (!known || !job) continue;
      this.toBuyer(job, { type: 'job-update', jobId, state: job.state, provider: p.address, reason: 'provider-reconnected', detail: 'The provider reconnected; the job goes on.' });
      if (job.lastVoucher) p.peer?.send({ type: 'voucher', jobId, signed: job.lastVoucher });
      if (job.cancelRequested) p.peer?.send({ type: 'cancel', jobId, reason: 'cancelled-by-buyer', detail: 'The buyer cancelled the job.' });
    }
    // Jobs the market had on this provider that it no longer runs.
    for (const jobId of [...p.running]) {
      if (named.has(jobId)) continue;
      const job = this.jobs.get(jobId);
      if (job) this.endJob(job, { state: 'failed', reason: 'lost-by-provider', detail: 'The provider reconnected without this job.', usageSeconds: job.usageSeconds, exitCode: null });
    }
  }

  // ── buyers ───────────────────────────────────────────────────────────────

  buyerConnected(address: string, peer: Peer<ToBuyerMessage>): BuyerSession {
    const session: BuyerSession = { address, peer, following: new Set() };
    let set = this.buyers.get(address);
    if (!set) this.buyers.set(address, (set = new Set()));
    set.add(session);
    return session;
  }

  buyerGone(session: BuyerSession): void {
    const set = this.buyers.get(session.address);
    set?.delete(session);
    if (set && set.size === 0) this.buyers.delete(session.address);
  }

  fromBuyer(session: BuyerSession, msg: BuyerMessage): ReturnType<typeof err> | null {
    switch (msg.type) {
      case 'hello':
      case 'sign-in':
        return err('already-signed-in', 'The first exchange is over: this connection is signed in.');
      case 'submit':
        // A submit without maxAttempts comes from a client that predates re-placement: it could not pay a
        // second provider, so its job is never placed again.
        return this.submit(session, msg.ref, msg.job, msg.maxAttempts ?? 1);
      case 'voucher':
        return this.voucher(session, msg.jobId, msg.signed);
      case 'cancel':
        return this.cancel(session, msg.jobId);
      case 'attach':
        for (const jobId of msg.jobIds) {
          const problem = this.attach(session, jobId);
          if (problem) return problem;
        }
        return null;
    }
  }

  private submit(session: BuyerSession, ref: string, request: Extract<BuyerMessage, { type: 'submit' }>['job'], maxAttempts: number): ReturnType<typeof err> | null {
    if ((this.openByBuyer.get(session.address) ?? 0) >= this.config.maxOpenJobsPerBuyer) return err('too-many-jobs', `A buyer may have ${this.config.maxOpenJobsPerBuyer} open jobs; wait for some to end.`, ref);
    const id = randomId('j', 9);
    const at = this.now();
    this.store.insertJob(id, session.address, request, at, maxAttempts);
    const job = this.activate({ id, buyer: session.address, request, state: 'queued', reason: 'submitted', detail: '', provider: null, usageSeconds: 0, lastSeq: null, paid: '0', lastVoucher: null, exitCode: null, offers: 0, submittedAt: at, endedAt: null, attempt: 1, maxAttempts, queuedAt: at, attempts: [] });
    session.following.add(id);
    this.startQueueTimer(job);
    session.peer.send({ type: 'submitted', ref, jobId: id, chainId: this.config.chainId, escrow: this.config.escrow });
    this.offerNext(job);
    if (job.state === 'queued') this.toBuyer(job, { type: 'job-update', jobId: id, state: 'queued', provider: null, reason: 'no-provider', detail: 'No connected provider can take the job now; it waits for one.' });
    return null;
  }

  private buyerJob(session: BuyerSession, jobId: string): StoredJob | ReturnType<typeof err> {
    const job = this.jobs.get(jobId) ?? this.store.job(jobId);
    if (!job || job.buyer !== session.address) return err('unknown-job', `You have no job ${jobId}.`, jobId);
    return job;
  }

  private voucher(session: BuyerSession, jobId: string, signed: Extract<BuyerMessage, { type: 'voucher' }>['signed']): ReturnType<typeof err> | null {
    const job = this.buyerJob(session, jobId);
    if ('type' in job) return job;
    const v = signed.voucher;
    const refuse = (why: string) => err('voucher-refused', `Voucher refused: ${why}`, jobId);
    // Each attempt is its own channel (buyer, provider, jobId): a voucher pays the current provider, or one that ran an earlier attempt.
    const earlier = job.provider && sameAddress(v.provider, job.provider) ? null : (job.attempts.find((a) => sameAddress(a.provider, v.provider)) ?? null);
    if (!job.provider && !earlier) return refuse(job.attempts.length ? 'it names no provider that ran the job, and the job waits to be placed again.' : 'the job has no provider yet.');
    if (v.buyer.toLowerCase() !== session.address.toLowerCase()) return refuse('it names another buyer.');
    if (!earlier && !sameAddress(v.provider, job.provider!)) return refuse("it does not name the job's provider.");
    if (v.jobId.toLowerCase() !== keccakText(jobId)) return refuse('its jobId is not keccak256 of the market job id.');
    const last = earlier ? earlier.paid : job.paid;
    if (BigInt(v.cumulativeAmount) < BigInt(last)) return refuse(`it is for less than the last voucher (${last}).`);
    let signer: string;
    try {
      signer = recoverVoucherSigner(signed, this.config.chainId, this.config.escrow);
    } catch {
      return refuse('the signature cannot be read.');
    }
    if (signer.toLowerCase() !== session.address.toLowerCase()) return refuse(`it is not signed by the buyer for chain ${this.config.chainId} and escrow ${this.config.escrow}.`);
    const to = earlier ? earlier.provider : job.provider!;
    if (earlier) {
      this.store.insertAttemptVoucher(jobId, earlier.attempt, signed, this.now());
      // `job` is the live job when it is in memory, so this updates it too.
      earlier.paid = v.cumulativeAmount;
      earlier.lastVoucher = signed;
    } else {
      this.store.insertVoucher(jobId, job.attempt, signed, this.now());
      const active = this.jobs.get(jobId);
      if (active) {
        active.paid = v.cumulativeAmount;
        active.lastVoucher = signed;
      }
    }
    this.providers.get(to)?.peer?.send({ type: 'voucher', jobId, signed });
    return null;
  }

  private cancel(session: BuyerSession, jobId: string): ReturnType<typeof err> | null {
    const found = this.buyerJob(session, jobId);
    if ('type' in found) return found;
    const job = this.jobs.get(jobId);
    if (!job || ENDED_STATES.has(job.state)) {
      session.peer.send({ type: 'job-ended', end: { jobId, state: found.state, reason: found.reason, detail: found.detail, usageSeconds: found.usageSeconds, exitCode: found.exitCode }, provider: found.provider });
      return null;
    }
    if (job.state === 'queued' || job.state === 'offered') {
      if (job.offer) this.closeOffer(job, 'withdrawn', 'cancelled', 'The buyer cancelled the job.', true, false);
      this.endJob(job, { state: 'cancelled', reason: 'cancelled-by-buyer', detail: 'Cancelled before any provider ran it.', usageSeconds: 0, exitCode: null });
      return null;
    }
    job.cancelRequested = true;
    const provider = job.provider ? this.providers.get(job.provider) : undefined;
    provider?.peer?.send({ type: 'cancel', jobId, reason: 'cancelled-by-buyer', detail: 'The buyer cancelled the job.' });
    return null;
  }

  private attach(session: BuyerSession, jobId: string): ReturnType<typeof err> | null {
    const found = this.buyerJob(session, jobId);
    if ('type' in found) return found;
    session.following.add(jobId);
    const job = this.jobs.get(jobId);
    if (!job) {
      session.peer.send({ type: 'job-ended', end: { jobId, state: found.state, reason: found.reason, detail: found.detail, usageSeconds: found.usageSeconds, exitCode: found.exitCode }, provider: found.provider });
      return null;
    }
    const pending = job.pending;
    job.pending = [];
    job.pendingBytes = 0;
    // The attempts already over (the held messages may have lost theirs to the bound; a buyer takes each once),
    // then what happened while away, in order, then where the job stands now.
    for (const a of job.attempts) session.peer.send(this.attemptEnded(job, a));
    for (const m of pending) session.peer.send(m);
    if (!pending.some((m) => m.type === 'job-ended')) session.peer.send({ type: 'job-update', jobId, state: job.state, provider: job.provider, reason: 'attached', detail: job.detail });
    return null;
  }

  /** Sends to every session of the job's buyer that follows it; with none, keeps it (bounded, oldest dropped) for `attach`. */
  private toBuyer(job: ActiveJob, message: ToBuyerMessage): void {
    let sent = false;
    for (const s of this.buyers.get(job.buyer) ?? []) {
      if (s.following.has(job.id)) {
        s.peer.send(message);
        sent = true;
      }
    }
    if (sent) return;
    const size = message.type === 'output' ? message.chunk.data.length + 256 : 512;
    job.pending.push(message);
    job.pendingBytes += size;
    while (job.pending.length > MAX_PENDING_MESSAGES || job.pendingBytes > MAX_PENDING_BYTES) {
      const dropped = job.pending.shift();
      if (!dropped) break;
      job.pendingBytes -= dropped.type === 'output' ? dropped.chunk.data.length + 256 : 512;
    }
  }

  // ── job life ─────────────────────────────────────────────────────────────

  private setState(job: ActiveJob, state: MarketJobState, reason: string, detail: string): void {
    job.state = state;
    job.reason = reason;
    job.detail = detail;
    this.store.saveJob(job);
    this.toBuyer(job, { type: 'job-update', jobId: job.id, state, provider: job.provider, reason, detail });
  }

  private endJob(job: ActiveJob, end: JobEnd): void {
    if (ENDED_STATES.has(job.state)) return;
    this.stopQueueTimer(job);
    const open = (this.openByBuyer.get(job.buyer) ?? 1) - 1;
    if (open > 0) this.openByBuyer.set(job.buyer, open);
    else this.openByBuyer.delete(job.buyer);
    if (job.offer) this.closeOffer(job, 'withdrawn', 'job-ended', 'The job ended.', true, false);
    job.state = end.state;
    job.reason = end.reason;
    job.detail = end.detail;
    job.usageSeconds = Math.max(job.usageSeconds, end.usageSeconds);
    job.exitCode = end.exitCode;
    job.endedAt = this.now();
    this.store.saveJob(job);
    if (job.provider) this.providers.get(job.provider)?.running.delete(job.id);
    this.toBuyer(job, { type: 'job-ended', end: { jobId: job.id, state: job.state, reason: job.reason, detail: job.detail, usageSeconds: job.usageSeconds, exitCode: job.exitCode }, provider: job.provider });
    job.lingerTimer = setTimeout(() => this.jobs.delete(job.id), this.config.endedLingerMs);
    job.lingerTimer.unref();
  }

  /**
   * Its provider ended the job `preempted` (the owner took the GPU back). With attempts left and
   * time left of its maximum duration, the attempt is recorded and the job is queued again for a
   * provider that has not run it; otherwise it ends `preempted`, saying why it was not placed again.
   */
  private preempted(job: ActiveJob, p: ProviderEntry, end: JobEnd): void {
    const usage = Math.max(job.usageSeconds, end.usageSeconds);
    const used = job.attempts.reduce((n, a) => n + a.usageSeconds, 0) + usage;
    const on = `Preempted on provider ${p.address}`;
    if (job.cancelRequested) return this.endJob(job, end);
    if (job.attempt >= job.maxAttempts) {
      const detail = job.maxAttempts === 1 ? `${on}; the buyer asked for one attempt only, so it is not placed again.` : `${on}, and no attempts are left (${job.attempt} of ${job.maxAttempts} used).`;
      return this.endJob(job, { ...end, reason: 'attempts-exhausted', detail });
    }
    if (used >= job.request.maxDurationSeconds) return this.endJob(job, { ...end, reason: 'max-duration-used', detail: `${on} after the job's maximum duration (${job.request.maxDurationSeconds} s) was used up; it is not placed again.` });
    const at = this.now();
    const ended: AttemptRecord = { attempt: job.attempt, provider: p.address, usageSeconds: usage, lastSeq: job.lastSeq, paid: job.paid, lastVoucher: job.lastVoucher, state: 'preempted', reason: end.reason, detail: end.detail, endedAt: at };
    p.running.delete(job.id);
    job.attempts.push(ended);
    job.attempt += 1;
    job.provider = null;
    job.usageSeconds = 0;
    job.lastSeq = null;
    job.paid = '0';
    job.lastVoucher = null;
    job.exitCode = null;
    job.outputBytes = 0;
    job.outputChunks = 0;
    job.state = 'queued';
    job.reason = 're-placing';
    job.detail = `${on}: placing it again (attempt ${job.attempt} of ${job.maxAttempts}).`;
    job.queuedAt = at;
    this.store.nextAttempt(job, ended);
    this.config.log.info('job preempted, placing it again', { jobId: job.id, provider: p.address, attempt: job.attempt, maxAttempts: job.maxAttempts });
    this.toBuyer(job, this.attemptEnded(job, ended));
    this.toBuyer(job, { type: 'job-update', jobId: job.id, state: 'queued', provider: null, reason: 're-placing', detail: job.detail });
    this.startQueueTimer(job);
    this.offerNext(job);
    // The preempted provider's slot is free again for other jobs once it advertises.
    this.scheduleRematch();
  }

  private attemptEnded(job: ActiveJob, a: AttemptRecord): Extract<ToBuyerMessage, { type: 'attempt-ended' }> {
    return { type: 'attempt-ended', jobId: job.id, attempt: a.attempt, provider: a.provider, end: { jobId: job.id, state: a.state, reason: a.reason.slice(0, 64), detail: a.detail.slice(0, 2000), usageSeconds: a.usageSeconds, exitCode: null }, next: a.attempt + 1, maxAttempts: job.maxAttempts };
  }

  /** A job waiting for a provider ends `expired` after the queue timeout (counted from submission, or from being placed again). */
  private startQueueTimer(job: ActiveJob): void {
    this.stopQueueTimer(job);
    if (this.closed) return;
    const left = Math.max(0, job.queuedAt + this.config.queueTimeoutMs - this.now());
    job.queueTimer = setTimeout(() => this.queueTimedOut(job), Math.min(left, 2 ** 31 - 1));
    job.queueTimer.unref();
  }

  private stopQueueTimer(job: ActiveJob): void {
    if (job.queueTimer) clearTimeout(job.queueTimer);
    job.queueTimer = null;
  }

  private queueTimedOut(job: ActiveJob): void {
    job.queueTimer = null;
    if (this.closed || (job.state !== 'queued' && job.state !== 'offered')) return;
    if (job.queuedAt + this.config.queueTimeoutMs > this.now()) return this.startQueueTimer(job); // a timeout longer than a timer can hold
    const ms = this.config.queueTimeoutMs;
    const waited = ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
    const last = job.attempts.at(-1);
    const detail = last
      ? `Preempted on provider ${last.provider}, and no other provider took the job within ${waited} (attempt ${job.attempt} of ${job.maxAttempts} was never placed).`
      : `No provider took the job within ${waited}; it was not run.`;
    this.endJob(job, { state: 'expired', reason: 'queue-timeout', detail, usageSeconds: 0, exitCode: null });
  }

  /** What is offered to a provider: the buyer's request, its maximum duration less what earlier attempts ran. */
  private offeredRequest(job: ActiveJob): JobRequest {
    if (job.attempts.length === 0) return job.request;
    const used = job.attempts.reduce((n, a) => n + a.usageSeconds, 0);
    return { ...job.request, maxDurationSeconds: Math.max(1, job.request.maxDurationSeconds - used) };
  }

  /** Closes the job's standing offer; `next`: offer the job to the next provider. */
  private closeOffer(job: ActiveJob, decision: 'declined' | 'expired' | 'withdrawn', reason: string, detail: string, tellProvider: boolean, next = true): void {
    const offer = job.offer;
    if (!offer) return;
    clearTimeout(offer.timer);
    job.offer = null;
    this.offers.delete(offer.id);
    const p = this.providers.get(offer.provider);
    if (p) {
      p.offers.delete(offer.id);
      p.reservedSlots = Math.max(0, p.reservedSlots - 1);
      p.reservedGpus = Math.max(0, p.reservedGpus - job.request.gpus);
      job.tried.set(p.address, p.adVersion);
      if (tellProvider) p.peer?.send({ type: 'offer-withdrawn', offerId: offer.id, reason });
    }
    this.store.decideOffer(offer.id, decision, reason, detail, this.now());
    if (!ENDED_STATES.has(job.state)) {
      job.state = 'queued';
      job.reason = decision === 'declined' ? `declined: ${reason}`.slice(0, 64) : reason;
      if (next) {
        this.offerNext(job);
        if (job.state === 'queued') this.store.saveJob(job);
      }
    }
    // The provider may have room for another queued job now.
    this.scheduleRematch();
  }

  /** Offers the job to the best provider that has not had it yet with its current advertisement. */
  private offerNext(job: ActiveJob): boolean {
    if (this.closed || job.offer || job.state !== 'queued') return false;
    const market = { chainId: this.config.chainId, escrow: this.config.escrow };
    const tried = job.tried;
    // Never a provider that already ran an attempt of the job.
    const ran = job.attempts.length === 0 ? null : new Set(job.attempts.map((a) => a.provider));
    const request = this.offeredRequest(job);
    const skip = tried.size === 0 && !ran ? undefined : (c: Candidate) => ran?.has(c.address) === true || tried.get(c.address) === (c as ProviderEntry).adVersion;
    const best = pickFromBuckets(request, this.ranked.inOrder(), market, skip) as ProviderEntry | null;
    if (!best || !best.peer) return false;
    const at = this.now();
    const offer: StandingOffer = { id: randomId('o'), provider: best.address, expiresAt: at + this.config.offerTtlMs, timer: setTimeout(() => this.offerExpired(job, offer.id), this.config.offerTtlMs) };
    job.offer = offer;
    job.state = 'offered';
    job.reason = 'offered';
    job.offers += 1;
    best.offers.set(offer.id, job);
    best.reservedSlots += 1;
    best.reservedGpus += job.request.gpus;
    best.lastOfferedAt = at;
    this.offers.set(offer.id, job);
    this.store.db.transaction(() => {
      this.store.insertOffer(offer.id, job.id, best.address, at, offer.expiresAt);
      this.store.saveJob(job);
    })();
    best.peer.send({ type: 'offer', offer: { offerId: offer.id, jobId: job.id, job: request, buyer: job.buyer, chainId: this.config.chainId, escrow: this.config.escrow, expiresAt: offer.expiresAt } });
    return true;
  }

  private offerExpired(job: ActiveJob, offerId: string): void {
    if (job.offer?.id !== offerId || this.closed) return;
    this.closeOffer(job, 'expired', 'expired', `No answer within ${this.config.offerTtlMs} ms.`, true);
  }

  /** Queued jobs are matched again (in submission order) when a provider advertises, connects, or frees a slot; coalesced. */
  private scheduleRematch(): void {
    if (this.rematchScheduled || this.closed) return;
    this.rematchScheduled = true;
    setImmediate(() => {
      this.rematchScheduled = false;
      this.rematch();
    });
  }

  private rematch(): void {
    if (this.closed) return;
    const hasRoom = () => {
      for (const p of this.providers.values()) {
        if (p.connected && p.ad && p.ad.availability.state !== 'paused' && p.ad.availability.state !== 'error' && p.ad.slots - p.reservedSlots >= 1) return true;
      }
      return false;
    };
    if (!hasRoom()) return;
    let since = 0;
    for (const job of this.jobs.values()) {
      if (job.state !== 'queued') continue;
      if (this.offerNext(job) && ++since % 64 === 0 && !hasRoom()) return;
    }
  }

  // ── views ────────────────────────────────────────────────────────────────

  jobsView(limit = 1000): MarketJobView[] {
    return this.store.recentJobs(limit).map((stored) => {
      const active = this.jobs.get(stored.id);
      return jobView(active ?? stored);
    });
  }

  providersView(): MarketProviderView[] {
    return [...this.providers.values()].map((p) => ({ address: p.address, connected: p.connected, connectedAt: p.connectedAt, ad: p.ad, runningJobs: [...p.running] }));
  }

  /** For tests and the benchmark. */
  stats(): { providers: number; connected: number; openJobs: number; queued: number; standingOffers: number } {
    let queued = 0;
    let open = 0;
    for (const j of this.jobs.values()) {
      if (!ENDED_STATES.has(j.state)) open += 1;
      if (j.state === 'queued') queued += 1;
    }
    return { providers: this.providers.size, connected: [...this.providers.values()].filter((p) => p.connected).length, openJobs: open, queued, standingOffers: this.offers.size };
  }
}

/** The checksummed form used as the registry key. */
export function normalizeAddress(address: string): string {
  return getAddress(address.toLowerCase());
}
