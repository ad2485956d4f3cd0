/**
 * Scripted peers that say which protocol revisions they speak, for the revision and image tests:
 * a sign-in with any `versions`, a provider built on it, and a frozen copy of what a revision-1
 * peer's strict schemas accept (every message type and every key), to check that such a peer is
 * never sent anything else.
 */
import { Wallet } from 'ethers';
import { PATHS, signInMessage, usageReportText, amountForSeconds, type Advertisement, type Role, type UsageReport } from '../../../protocol/index.js';
import { makeAd } from '../../helpers/market-ad.js';
import { RawPeer, type Msg } from './peer.js';

const keys = (...k: string[]) => new Set(k);
const CHALLENGE = keys('type', 'version', 'nonce', 'domain', 'uri', 'chainId', 'issuedAt', 'expiresAt');
const WELCOME = keys('type', 'address', 'session', 'chainId', 'escrow');
const ERROR = keys('type', 'code', 'message', 'ref');

/** market → provider, revision 1 (protocol/messages.ts before revision 2): message type → its keys. */
const V1_TO_PROVIDER: Record<string, Set<string>> = {
  challenge: CHALLENGE,
  welcome: WELCOME,
  error: ERROR,
  offer: keys('type', 'offer'),
  'job-confirmed': keys('type', 'jobId', 'offerId'),
  'offer-withdrawn': keys('type', 'offerId', 'reason'),
  voucher: keys('type', 'jobId', 'signed'),
  cancel: keys('type', 'jobId', 'reason', 'detail'),
  resumed: keys('type', 'jobs'),
};
const V1_OFFER = keys('offerId', 'jobId', 'job', 'buyer', 'chainId', 'escrow', 'expiresAt');
const V1_JOB = keys('image', 'pullFrom', 'command', 'env', 'gpus', 'minVramMiB', 'cpus', 'memoryMiB', 'diskMiB', 'maxDurationSeconds', 'network', 'inputs', 'outputMiB', 'pricePerHour', 'reportIntervalSeconds');

/** market → buyer, revision 1. */
const V1_TO_BUYER: Record<string, Set<string>> = {
  challenge: CHALLENGE,
  welcome: WELCOME,
  error: ERROR,
  submitted: keys('type', 'ref', 'jobId', 'chainId', 'escrow'),
  'job-update': keys('type', 'jobId', 'state', 'provider', 'reason', 'detail'),
  usage: keys('type', 'report', 'pricePerHour'),
  output: keys('type', 'chunk'),
  'job-ended': keys('type', 'end', 'provider'),
  'attempt-ended': keys('type', 'jobId', 'attempt', 'provider', 'end', 'next', 'maxAttempts'),
};

function unknownKeys(value: unknown, allowed: Set<string>): string[] {
  return Object.keys(value as object).filter((k) => !allowed.has(k));
}

/** Why a revision-1 peer's strict schemas would refuse the message, or null. */
export function v1Refusal(role: Role, m: Msg): string | null {
  const shapes = role === 'provider' ? V1_TO_PROVIDER : V1_TO_BUYER;
  const allowed = shapes[m.type];
  if (!allowed) return `a revision-1 ${role} knows no "${m.type}" message`;
  const extra = unknownKeys(m, allowed);
  if (m.type === 'offer') {
    const offer = m.offer as { job: unknown };
    extra.push(...unknownKeys(offer, V1_OFFER).map((k) => `offer.${k}`), ...unknownKeys(offer.job, V1_JOB).map((k) => `offer.job.${k}`));
  }
  return extra.length > 0 ? `"${m.type}" has keys a revision-1 ${role} refuses: ${extra.join(', ')}` : null;
}

/** hello (with `versions`) → challenge → sign-in → welcome. Every message the peer receives is also kept in `seen`. */
export async function signInAt(base: string, role: Role, wallet: Wallet, versions: number[]): Promise<{ peer: RawPeer; challenge: Msg; reply: Msg; seen: Msg[] }> {
  const peer = await RawPeer.open(base + PATHS[role]);
  const seen: Msg[] = [];
  peer.ws.on('message', (data) => seen.push(JSON.parse(data.toString()) as Msg));
  peer.send({ type: 'hello', versions, role, agent: `test-v${versions.join('.')}` });
  const challenge = await peer.next((m) => m.type === 'challenge' || m.type === 'error');
  if (challenge.type === 'error') return { peer, challenge, reply: challenge, seen };
  const text = signInMessage({ domain: challenge.domain as string, address: wallet.address, uri: challenge.uri as string, chainId: challenge.chainId as number, nonce: challenge.nonce as string, issuedAt: challenge.issuedAt as string, expirationTime: challenge.expiresAt as string, role });
  peer.send({ type: 'sign-in', message: text, signature: await wallet.signMessage(text) });
  const reply = await peer.next((m) => m.type === 'welcome' || m.type === 'error');
  return { peer, challenge, reply, seen };
}

export type OfferMsg = Msg & { offer: { offerId: string; jobId: string; job: Record<string, unknown> & { pricePerHour: string }; expiresAt: number } };

/** A provider that speaks the revisions it is given; tests drive it message by message. */
export class RevisionProvider {
  private seq = 0;

  private constructor(
    readonly peer: RawPeer,
    readonly wallet: Wallet,
    readonly revision: number,
    /** Every message the market sent it, from the challenge on. */
    readonly seen: Msg[],
  ) {}

  static async connect(base: string, market: { chainId: number; escrow: string }, o: { versions: number[]; ad?: Partial<Advertisement>; wallet?: Wallet }): Promise<RevisionProvider> {
    const wallet = o.wallet ?? (Wallet.createRandom() as unknown as Wallet);
    const { peer, challenge, reply, seen } = await signInAt(base, 'provider', wallet, o.versions);
    if (reply.type !== 'welcome') throw new Error(`provider sign-in refused: ${JSON.stringify(reply)}`);
    peer.send({ type: 'advertise', ad: makeAd(market, o.ad) });
    return new RevisionProvider(peer, wallet, challenge.version as number, seen);
  }

  get address(): string {
    return this.wallet.address;
  }

  nextOffer(timeoutMs = 5000): Promise<OfferMsg> {
    return this.peer.next('offer', timeoutMs) as Promise<OfferMsg>;
  }

  accept(offerId: string): void {
    this.peer.send({ type: 'offer-reply', offerId, accept: true, reason: null, detail: '' });
  }

  pullProgress(jobId: string, bytes: number, totalBytes: number | null, bytesPerSecond: number | null): void {
    this.peer.send({ type: 'pull-progress', progress: { jobId, bytes, totalBytes, bytesPerSecond } });
  }

  /** A signed usage report (its claimed seconds are the caller's: tests keep them small). */
  async report(jobId: string, usageSeconds: number, pricePerHour: string, final = false): Promise<void> {
    const unsigned = { jobId, seq: this.seq++, usageSeconds, amountDue: amountForSeconds(usageSeconds, BigInt(pricePerHour)).toString(), at: Date.now(), final, provider: this.address };
    const report: UsageReport = { ...unsigned, signature: await this.wallet.signMessage(usageReportText(unsigned)) };
    this.peer.send({ type: 'usage', report });
  }

  end(jobId: string, usageSeconds: number): void {
    this.peer.send({ type: 'job-ended', end: { jobId, state: 'succeeded', reason: 'exited', detail: '', usageSeconds, exitCode: 0 } });
  }

  close(): void {
    this.peer.close();
  }
}
