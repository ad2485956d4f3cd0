/**
 * A raw protocol peer for the market tests: a real WebSocket client that speaks the protocol
 * message by message (so tests can also say the wrong things), and a simulated provider built on
 * it that signs in with a real key, advertises, and answers offers.
 */
import { Wallet } from 'ethers';
import WebSocket from 'ws';
import {
  amountForSeconds,
  PATHS,
  signInMessage,
  usageReportText,
  type Advertisement,
  type Role,
  type UsageReport,
} from '../../../protocol/index.js';
import { makeAd } from '../../helpers/market-ad.js';

export type Msg = { type: string } & Record<string, unknown>;

export class RawPeer {
  readonly inbox: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  closed: { code: number; reason: string } | null = null;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Msg;
      const i = this.waiters.findIndex((w) => w.pred(m));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
      else this.inbox.push(m);
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w(this.closed);
    });
    ws.on('error', () => {});
  }

  static open(url: string, headers?: Record<string, string>): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const peer = new RawPeer(ws);
      ws.once('open', () => resolve(peer));
      ws.once('error', reject);
    });
  }

  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  /** The next message matching (default: any), from the inbox first. */
  next(pred: string | ((m: Msg) => boolean) = () => true, timeoutMs = 5000): Promise<Msg> {
    const test = typeof pred === 'string' ? (m: Msg) => m.type === pred : pred;
    const i = this.inbox.findIndex(test);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { pred: test, resolve: (m: Msg) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no ${typeof pred === 'string' ? pred : 'matching'} message in ${timeoutMs} ms; inbox: ${JSON.stringify(this.inbox).slice(0, 500)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** No message matching arrives within `ms`. */
  async none(pred: string | ((m: Msg) => boolean), ms = 300): Promise<boolean> {
    try {
      await this.next(pred, ms);
      return false;
    } catch {
      return true;
    }
  }

  waitClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not closed')), timeoutMs);
      this.closeWaiters.push((c) => (clearTimeout(timer), resolve(c)));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** hello → challenge → sign-in; `tamper` changes what is signed or sent. Returns the peer and the last message (welcome or error). */
export async function signIn(
  base: string,
  role: Role,
  wallet: Wallet,
  tamper: { fields?: (f: Parameters<typeof signInMessage>[0]) => Parameters<typeof signInMessage>[0]; signWith?: Wallet; message?: (text: string) => string } = {},
): Promise<{ peer: RawPeer; reply: Msg; challenge: Msg }> {
  const peer = await RawPeer.open(base + PATHS[role]);
  peer.send({ type: 'hello', versions: [1], role, agent: 'test' });
  const challenge = await peer.next('challenge');
  let fields = {
    domain: challenge.domain as string,
    address: wallet.address,
    uri: challenge.uri as string,
    chainId: challenge.chainId as number,
    nonce: challenge.nonce as string,
    issuedAt: challenge.issuedAt as string,
    expirationTime: challenge.expiresAt as string,
    role,
  };
  if (tamper.fields) fields = tamper.fields(fields);
  let text = signInMessage(fields);
  if (tamper.message) text = tamper.message(text);
  const signature = await (tamper.signWith ?? wallet).signMessage(text);
  peer.send({ type: 'sign-in', message: text, signature });
  const reply = await peer.next((m) => m.type === 'welcome' || m.type === 'error');
  return { peer, reply, challenge };
}

/**
 * A simulated provider: signed in and advertised. It answers nothing by itself; tests drive it.
 * Its reports keep to the wall clock (a report claiming n s is sent n s after the offer was
 * accepted, as a real provider's would be) unless `honestTiming` is turned off to lie.
 */
export class TestProvider {
  private seq = 0;
  honestTiming = true;
  private readonly offered = new Map<string, string>();
  private readonly acceptedAt = new Map<string, number>();
  private constructor(
    readonly peer: RawPeer,
    readonly wallet: Wallet,
  ) {}

  static async connect(base: string, market: { chainId: number; escrow: string }, ad: Partial<Advertisement> = {}, wallet = Wallet.createRandom()): Promise<TestProvider> {
    const { peer, reply } = await signIn(base, 'provider', wallet as unknown as Wallet);
    if (reply.type !== 'welcome') throw new Error(`provider sign-in refused: ${JSON.stringify(reply)}`);
    peer.send({ type: 'advertise', ad: makeAd(market, ad) });
    return new TestProvider(peer, wallet as unknown as Wallet);
  }

  get address(): string {
    return this.wallet.address;
  }

  async nextOffer(timeoutMs = 5000): Promise<Msg & { offer: { offerId: string; jobId: string; job: { pricePerHour: string }; expiresAt: number } }> {
    const o = (await this.peer.next('offer', timeoutMs)) as Msg & { offer: { offerId: string; jobId: string; job: { pricePerHour: string }; expiresAt: number } };
    this.offered.set(o.offer.offerId, o.offer.jobId);
    return o;
  }

  reply(offerId: string, accept: boolean, reason: string | null = null, detail = ''): void {
    const jobId = this.offered.get(offerId);
    if (accept && jobId) this.acceptedAt.set(jobId, Date.now());
    this.peer.send({ type: 'offer-reply', offerId, accept, reason, detail });
  }

  async report(jobId: string, usageSeconds: number, pricePerHour: string, over: Partial<UsageReport> = {}, signer: Wallet = this.wallet): Promise<UsageReport> {
    if (this.honestTiming) {
      if (!this.acceptedAt.has(jobId)) this.acceptedAt.set(jobId, Date.now());
      const wait = this.acceptedAt.get(jobId)! + usageSeconds * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const unsigned = { jobId, seq: this.seq++, usageSeconds, amountDue: amountForSeconds(usageSeconds, BigInt(pricePerHour)).toString(), at: Date.now(), final: false, provider: this.wallet.address, ...over };
    const { signature: _ignored, ...rest } = unsigned as UsageReport;
    const report = { ...rest, signature: await signer.signMessage(usageReportText(rest)) } as UsageReport;
    this.peer.send({ type: 'usage', report });
    return report;
  }

  end(jobId: string, state: string, usageSeconds: number, reason = state, exitCode: number | null = 0): void {
    this.peer.send({ type: 'job-ended', end: { jobId, state, reason, detail: '', usageSeconds, exitCode } });
  }

  close(): void {
    this.peer.close();
  }
}
