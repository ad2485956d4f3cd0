/**
 * Peers that lie to the reference market, each playing its best strategy over real WebSockets
 * with real keys: a relay that forwards a real agent's (or buyer's) connection to have it signed in
 * as them; a sign-in that stands until 2099; advertisements with impossible figures; sockets
 * that never sign in; malformed messages paced to dodge a "in a row" count. Each test fails on
 * the market as it was before issue 16.
 */
import net from 'node:net';
import { Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { BuyerClient } from '../../../buyer/index.js';
import { startMarket, type MarketOptions, type RunningMarket } from '../../../market/server.js';
import { describeStatus } from '../../../runtime/cli/commands/market-status.js';
import { MarketConnection, type LinkState } from '../../../runtime/market/connection.js';
import { defaultMarketSettings } from '../../../runtime/market/settings.js';
import { MALFORMED_LIMIT } from '../../../protocol/frames.js';
import { silentLogger } from '../../../runtime/log.js';
import { PATHS } from '../../../protocol/index.js';
import { makeAd } from '../../helpers/market-ad.js';
import { RawPeer, signIn, TestProvider, type Msg } from './peer.js';

const chainId = 31337;
const escrow = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const ctx = { chainId, escrow };
const IMAGE = 'sha256:' + 'cd'.repeat(32);
const job = { image: IMAGE, command: ['render'], gpus: 1, pricePerHour: '1000000000000000000', reportIntervalSeconds: 5 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function market(options: Partial<MarketOptions> = {}): Promise<RunningMarket> {
  const m = await startMarket({ chainId, escrow, log: silentLogger, ...options });
  cleanups.push(() => m.close());
  return m;
}

/**
 * A relay on its own port: it terminates the victim's WebSocket and opens its own to the market
 * with `Host` set to the relay's address (what the victim dialed), forwarding every message. With
 * `rewriteChallenge` it also makes the challenge name the relay, so the victim's own check passes.
 * It records whether the market ever welcomed it.
 */
async function relay(targetUrl: () => string, rewriteChallenge: boolean): Promise<{ url: string; host: string; welcomed: Msg[]; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const host = `127.0.0.1:${(wss.address() as net.AddressInfo).port}`;
  const welcomed: Msg[] = [];
  wss.on('connection', (victim, req) => {
    const upstream = new WebSocket(targetUrl() + (req.url ?? '/'), { headers: { host } });
    const queue: string[] = [];
    victim.on('message', (data) => (upstream.readyState === WebSocket.OPEN ? upstream.send(data.toString()) : queue.push(data.toString())));
    upstream.on('open', () => queue.splice(0).forEach((m) => upstream.send(m)));
    upstream.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Msg;
      if (m.type === 'welcome') welcomed.push(m);
      if (m.type === 'challenge' && rewriteChallenge) Object.assign(m, { domain: host, uri: `ws://${host}${req.url ?? ''}` });
      if (victim.readyState === WebSocket.OPEN) victim.send(JSON.stringify(m));
    });
    upstream.on('close', () => victim.close());
    victim.on('close', () => upstream.close());
    upstream.on('error', () => victim.terminate());
    victim.on('error', () => upstream.terminate());
  });
  return {
    url: `ws://${host}`,
    host,
    welcomed,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

/** The agent's own connection code (runtime/market/connection.ts) with a real key, dialing `url` once. */
async function agentDials(url: string, wallet: Wallet): Promise<{ states: { state: LinkState; reason: string }[]; stop(): Promise<void> }> {
  const states: { state: LinkState; reason: string }[] = [];
  const conn = new MarketConnection({
    url,
    allowInsecure: false,
    agent: 'victim',
    address: wallet.address,
    signMessage: (text) => wallet.signMessage(text),
    onState: (state, reason) => states.push({ state, reason }),
    onWelcome: () => {},
    onMessage: () => {},
    log: silentLogger,
    backoff: { minMs: 60_000, maxMs: 60_000 },
  });
  conn.start();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && !states.some((s) => s.state === 'connected' || s.state === 'retrying')) await sleep(20);
  return { states, stop: () => conn.stop() };
}

describe('a relay cannot have a real agent or buyer signed in as itself', () => {
  for (const rewriteChallenge of [false, true]) {
    it(`a relay that forwards with its own Host${rewriteChallenge ? ' and rewrites the challenge to name itself' : ''} is never welcomed as the victim`, async () => {
      const m = await market();
      const r = await relay(() => m.url, rewriteChallenge);
      cleanups.push(() => r.close());

      const victim = Wallet.createRandom() as unknown as Wallet;
      const agent = await agentDials(r.url, victim);
      cleanups.push(() => agent.stop());
      expect(agent.states.map((s) => s.state)).not.toContain('connected');
      const last = agent.states.at(-1)!;
      expect(last.state).toBe('retrying');
      // Either the agent refused to sign for the market's name (it dialed the relay), or the market refused a text signed for the relay.
      expect(last.reason).toMatch(rewriteChallenge ? /refused the sign-in: The sign-in names the domain "127\.0\.0\.1:\d+", not this market's "127\.0\.0\.1:\d+"/ : /asked to sign in to "127\.0\.0\.1:\d+", not 127\.0\.0\.1:\d+/);

      const buyerKey = Wallet.createRandom();
      await expect(BuyerClient.connect({ market: r.url, signer: buyerKey.privateKey, reconnect: false, timeoutMs: 5000 })).rejects.toThrow(rewriteChallenge ? /refused us: The sign-in names the domain/ : /asks us to sign in to "127\.0\.0\.1:\d+", but we dialed/);

      expect(r.welcomed).toEqual([]);
      expect(m.market.providersView().map((p) => p.address)).not.toContain(victim.address);
    });
  }

  it('the challenge names the configured public URL; through a proxy at that URL the agent and the buyer sign in, and straight to the listening port they refuse', async () => {
    let target = '';
    const proxy = await relay(() => target, false);
    cleanups.push(() => proxy.close());
    const m = await market({ publicUrl: proxy.url });
    target = m.url;
    expect(m.publicUrl).toBe(proxy.url);

    const through = await signIn(proxy.url, 'provider', Wallet.createRandom() as unknown as Wallet);
    expect(through.challenge).toMatchObject({ domain: proxy.host, uri: `${proxy.url}${PATHS.provider}` });
    expect(through.reply.type).toBe('welcome');
    through.peer.close();
    const buyer = await BuyerClient.connect({ market: proxy.url, signer: Wallet.createRandom().privateKey, reconnect: false });
    buyer.close();

    // Dialed around the proxy, the market still names its public URL: the buyer does not sign for a host it did not dial.
    await expect(BuyerClient.connect({ market: m.url, signer: Wallet.createRandom().privateKey, reconnect: false, timeoutMs: 5000 })).rejects.toThrow(/asks us to sign in to "127\.0\.0\.1:\d+", but we dialed/);
    await expect(startMarket({ chainId, escrow, publicUrl: 'https://market.example.com/v1' })).rejects.toThrow(/wss:\/\//);
  });

  it('answers localhost and 127.0.0.1 alike when no public URL is set', async () => {
    const m = await market();
    const viaLocalhost = await signIn(`ws://localhost:${m.port}`, 'buyer', Wallet.createRandom() as unknown as Wallet).catch(() => null);
    // localhost may resolve to ::1 first where the market does not listen; when it reaches the market it is signed in as localhost.
    if (viaLocalhost) {
      expect(viaLocalhost.challenge.domain).toBe(`localhost:${m.port}`);
      expect(viaLocalhost.reply.type).toBe('welcome');
      viaLocalhost.peer.close();
    }
    const direct = await signIn(m.url, 'buyer', Wallet.createRandom() as unknown as Wallet);
    expect(direct.challenge.domain).toBe(`127.0.0.1:${m.port}`);
    direct.peer.close();
  });
});

describe('a sign-in is good for minutes, not years', () => {
  it('refuses a sign-in whose Expiration Time is 2099, or that expires before it is issued', async () => {
    const m = await market();
    for (const [expirationTime, why] of [
      ['2099-01-01T00:00:00.000Z', /more than 5 minutes after it is issued/],
      ['2000-01-01T00:00:00.000Z', /expired/],
    ] as const) {
      const { peer, reply } = await signIn(m.url, 'provider', Wallet.createRandom() as unknown as Wallet, { fields: (f) => ({ ...f, expirationTime }) });
      expect(reply).toMatchObject({ type: 'error', code: 'sign-in-refused' });
      expect(reply.message).toMatch(why);
      expect((await peer.waitClose()).code).toBe(1008);
    }
    const { peer, reply } = await signIn(m.url, 'provider', Wallet.createRandom() as unknown as Wallet, { fields: (f) => ({ ...f, issuedAt: '2000-01-01T00:00:00.000Z' }) });
    expect(reply.message).toMatch(/issued too long ago/);
    peer.close();
  });
});

describe('advertised figures are bounded and must agree', () => {
  it('refuses a score of 1e308, 2^53−1 MiB of memory and more free GPUs than GPUs; the honest provider gets the offer', async () => {
    const m = await market();
    const honest = await TestProvider.connect(m.url, ctx, { score: 100, gpus: [{ model: 'RTX 4090', vendor: 'nvidia', vramMiB: 24_564, driver: null, cudaVersion: null, score: 100 }] });
    cleanups.push(() => honest.close());
    const liar = await TestProvider.connect(m.url, ctx, { score: 100 });
    cleanups.push(() => liar.close());
    const lies: [Record<string, unknown>, RegExp][] = [
      [{ score: 1e308 }, /ad\.score/],
      [{ memoryMiB: 2 ** 53 - 1 }, /ad\.memoryMiB/],
      [{ freeDiskMiB: 2 ** 53 - 1 }, /ad\.freeDiskMiB/],
      [{ maxJobSeconds: 2 ** 40 }, /ad\.maxJobSeconds/],
      [{ gpus: [{ model: 'x', vendor: 'nvidia', vramMiB: 2 ** 40, driver: null, cudaVersion: null, score: null }] }, /ad\.gpus\.0\.vramMiB/],
      [{ freeGpus: 64 }, /ad\.freeGpus: freeGpus is more than the GPUs advertised/],
      [{ score: 9000, gpus: [{ model: 'x', vendor: 'nvidia', vramMiB: 8192, driver: null, cudaVersion: null, score: 40 }] }, /ad\.score: the score is not one of the scored cards' scores/],
    ];
    // The liar's first (honest-looking) advertisement is replaced by each lie in turn: each is refused, and the market forgets nothing it checked.
    for (const [over, why] of lies) {
      liar.peer.send({ type: 'advertise', ad: makeAd(ctx, { score: null, ...over }) });
      const e = await liar.peer.next('error');
      expect(e).toMatchObject({ code: 'invalid-message' });
      expect(e.message).toMatch(why);
    }
    liar.peer.send({ type: 'advertise', ad: makeAd(ctx, { score: null }) });
    await sleep(50);
    const b = await signIn(m.url, 'buyer', Wallet.createRandom() as unknown as Wallet);
    cleanups.push(() => b.peer.close());
    b.peer.send({ type: 'submit', ref: 'r', job });
    const o = await honest.nextOffer();
    expect(o.offer.job.pricePerHour).toBe(job.pricePerHour);
    expect(await liar.peer.none('offer', 300)).toBe(true);
  });

  it('ranks scores in tiers of ×2: a provider claiming the bound (10,000) takes turns with one honestly at 8,200', async () => {
    const m = await market({ offerTtlMs: 5000 });
    const card = (score: number) => [{ model: 'g', vendor: 'nvidia' as const, vramMiB: 81_559, driver: null, cudaVersion: null, score }];
    const best = await TestProvider.connect(m.url, ctx, { score: 8200, gpus: card(8200), slots: 64 });
    const liar = await TestProvider.connect(m.url, ctx, { score: 10_000, gpus: card(10_000), slots: 64 });
    const slow = await TestProvider.connect(m.url, ctx, { score: 100, gpus: card(100), slots: 64 });
    cleanups.push(() => best.close(), () => liar.close(), () => slow.close());
    await sleep(50);
    const b = await signIn(m.url, 'buyer', Wallet.createRandom() as unknown as Wallet);
    cleanups.push(() => b.peer.close());
    for (let i = 0; i < 6; i++) {
      b.peer.send({ type: 'submit', ref: `r${i}`, job: { ...job, gpus: 0 } });
      await b.peer.next((x) => x.type === 'submitted' && x.ref === `r${i}`);
      await sleep(20);
    }
    await sleep(200);
    const offers = (p: TestProvider) => p.peer.inbox.filter((x) => x.type === 'offer').length;
    expect([offers(liar), offers(best), offers(slow)]).toEqual([3, 3, 0]);
  });
});

describe('connections that never sign in', () => {
  it('refuses more than the per-address limit of connections waiting to sign in (503), closes each at the sign-in deadline, and then signs in a real peer', async () => {
    const m = await market({ maxUnauthenticatedPerAddress: 8, signInDeadlineMs: 1500 });
    // Raw sockets that never send a byte, and WebSockets that say hello and never sign in.
    const raw = await Promise.all(
      Array.from({ length: 12 }, () => new Promise<{ socket: net.Socket; data: string; closed: boolean }>((resolve) => {
        const socket = net.connect(m.port, '127.0.0.1');
        const s = { socket, data: '', closed: false };
        socket.on('data', (d) => (s.data += d.toString()));
        socket.on('close', () => (s.closed = true));
        socket.on('error', () => {});
        socket.once('connect', () => resolve(s));
      })),
    );
    cleanups.push(() => raw.forEach((s) => s.socket.destroy()));
    await sleep(300);
    const refused = raw.filter((s) => s.data.startsWith('HTTP/1.1 503'));
    expect(refused).toHaveLength(4);
    expect(refused[0]!.data).toMatch(/Too many connections from 127\.0\.0\.1 are waiting to sign in; try again in 2 s/);
    // While 8 wait, a ninth from the same address is refused too.
    await expect(RawPeer.open(m.url + PATHS.provider)).rejects.toThrow(/503/);

    await sleep(1700);
    expect(raw.every((s) => s.closed)).toBe(true);
    // Hello, then silence: closed at the deadline with a reason.
    const silent = await Promise.all(Array.from({ length: 8 }, () => RawPeer.open(m.url + PATHS.provider)));
    for (const p of silent) p.send({ type: 'hello', versions: [1], role: 'provider', agent: 'silent' });
    for (const p of silent) expect(await p.next('challenge')).toBeTruthy();
    const closes = await Promise.all(silent.map((p) => p.waitClose(4000)));
    expect(closes.every((c) => c.code === 1008)).toBe(true);
    expect(silent[0]!.inbox.find((x) => x.type === 'error')).toMatchObject({ code: 'sign-in-timeout', message: expect.stringMatching(/No sign-in within 2 s of connecting/) });

    // Signed-in peers do not count against the limit.
    const signedIn = [];
    for (let i = 0; i < 10; i++) {
      const s = await signIn(m.url, 'provider', Wallet.createRandom() as unknown as Wallet);
      expect(s.reply.type).toBe('welcome');
      signedIn.push(s.peer);
    }
    await sleep(1700);
    expect(signedIn.every((p) => p.closed === null)).toBe(true);
    signedIn.forEach((p) => p.close());
  });

  it('signing in with throwaway keys does not get round it: connections per address are capped, signed in or not', async () => {
    const m = await market({ maxConnectionsPerAddress: 12 });
    const peers: RawPeer[] = [];
    cleanups.push(() => peers.forEach((p) => p.close()));
    for (let i = 0; i < 12; i++) {
      const s = await signIn(m.url, i % 2 ? 'buyer' : 'provider', Wallet.createRandom() as unknown as Wallet);
      expect(s.reply.type).toBe('welcome');
      peers.push(s.peer);
    }
    await expect(RawPeer.open(m.url + PATHS.buyer)).rejects.toThrow(/503/);
    const res = await fetch(`http://127.0.0.1:${m.port}${PATHS.providers}`).catch((e: Error) => e);
    expect(res instanceof Error || res.status === 503).toBe(true);
    // One leaves: one more may come.
    peers.pop()!.close();
    await sleep(200);
    const again = await signIn(m.url, 'buyer', Wallet.createRandom() as unknown as Wallet);
    expect(again.reply.type).toBe('welcome');
    peers.push(again.peer);
  });
});

describe('malformed messages are counted against valid ones, not in a row', () => {
  for (const role of ['provider', 'buyer'] as const) {
    it(`closes a ${role} that sends ${MALFORMED_LIMIT - 1} malformed messages then one valid one, over and over, within two rounds`, async () => {
      const m = await market();
      const { peer, reply } = await signIn(m.url, role, Wallet.createRandom() as unknown as Wallet);
      expect(reply.type).toBe('welcome');
      const valid = role === 'provider' ? { type: 'resume', jobs: [] } : { type: 'attach', jobIds: [] };
      let sent = 0;
      for (let round = 0; round < 10 && !peer.closed; round++) {
        for (let i = 0; i < MALFORMED_LIMIT - 1; i++, sent++) peer.send({ type: 'nonsense', i });
        peer.send(valid);
        sent += 1;
        await sleep(100);
      }
      expect(peer.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/too many malformed messages/) });
      expect(sent).toBeLessThanOrEqual(2 * MALFORMED_LIMIT);
    });
  }

  it(`the agent's own connection closes a market that sends ${MALFORMED_LIMIT - 1} malformed messages then one valid one, over and over`, async () => {
    // A scripted market: it signs the agent in (any signature), then paces garbage with one valid message per round.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    cleanups.push(() => new Promise((r) => wss.close(r)));
    const host = `127.0.0.1:${(wss.address() as net.AddressInfo).port}`;
    const closed = new Promise<{ code: number; sent: number }>((resolve) => {
      wss.once('connection', (ws) => {
        let sent = 0;
        ws.on('close', (code) => resolve({ code, sent }));
        ws.on('message', async (data) => {
          const m = JSON.parse(data.toString()) as Msg;
          const now = new Date();
          if (m.type === 'hello') ws.send(JSON.stringify({ type: 'challenge', version: 1, nonce: 'N'.repeat(32), domain: host, uri: `ws://${host}${PATHS.provider}`, chainId, issuedAt: now.toISOString(), expiresAt: new Date(now.getTime() + 60_000).toISOString() }));
          if (m.type !== 'sign-in') return;
          ws.send(JSON.stringify({ type: 'welcome', address: Wallet.createRandom().address, session: 's1', chainId, escrow }));
          for (let round = 0; round < 10 && ws.readyState === WebSocket.OPEN; round++) {
            for (let i = 0; i < MALFORMED_LIMIT - 1; i++, sent++) ws.send(JSON.stringify({ type: 'nonsense', i }));
            ws.send(JSON.stringify({ type: 'resumed', jobs: [] }));
            sent += 1;
            await sleep(100);
          }
          // Ten rounds and the agent still listens: the market gives up (1000), which fails the test.
          if (ws.readyState === WebSocket.OPEN) ws.close(1000);
        });
      });
    });
    const agent = await agentDials(`ws://${host}`, Wallet.createRandom() as unknown as Wallet);
    cleanups.push(() => agent.stop());
    const { code, sent } = await closed;
    expect(code).toBe(1008);
    expect(sent).toBeLessThanOrEqual(2 * MALFORMED_LIMIT);
  });

  it('keeps a peer whose rare mistakes are outweighed by valid messages', async () => {
    const m = await market();
    const { peer } = await signIn(m.url, 'provider', Wallet.createRandom() as unknown as Wallet);
    // One malformed message in three, 400 messages: the count never builds up.
    for (let i = 0; i < 400; i++) peer.send(i % 3 === 0 ? { type: 'nonsense' } : { type: 'resume', jobs: [] });
    await sleep(500);
    expect(peer.closed).toBeNull();
    expect(peer.inbox.filter((x) => x.type === 'resumed')).toHaveLength(266);
    expect(peer.inbox.filter((x) => x.type === 'error')).toHaveLength(134);
    peer.close();
  });
});

describe("a market's words reach the owner's terminal as text", () => {
  it('a close reason with escape sequences and a forged line is printed by `market status` escaped, on its own line', async () => {
    // Its best strategy against the command line: clear the screen, then forge a line saying all is well.
    const forged = '\x1b[2J\x1b[H\x1b[32mconnected\x1b[0m\nState:    connected, all is well\u202e';
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    cleanups.push(() => new Promise((r) => wss.close(r)));
    const host = `127.0.0.1:${(wss.address() as net.AddressInfo).port}`;
    wss.once('connection', (ws) => {
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as Msg;
        const now = new Date();
        if (m.type === 'hello') ws.send(JSON.stringify({ type: 'challenge', version: 1, nonce: 'N'.repeat(32), domain: host, uri: `ws://${host}${PATHS.provider}`, chainId, issuedAt: now.toISOString(), expiresAt: new Date(now.getTime() + 60_000).toISOString() }));
        if (m.type === 'sign-in') ws.close(4000, forged);
      });
    });
    const agent = await agentDials(`ws://${host}`, Wallet.createRandom() as unknown as Wallet);
    cleanups.push(() => agent.stop());
    const down = agent.states.find((s) => s.state === 'retrying');
    expect(down?.reason).toContain(forged); // the agent keeps the market's words as they came…
    const text = describeStatus({
      network: 'real', url: `ws://${host}`, state: 'retrying', reason: down!.reason, since: Date.now(), nextRetryAt: null, address: null,
      settings: defaultMarketSettings, locked: [], suggestedPricePerGpuHour: null, suggestionBasis: null, offers: [], jobs: [], tokenSymbol: 'OFT', tokenDecimals: 18, demoJobs: null,
    });
    // …and the terminal gets them as text: no control character, no line of the market's own.
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(text.split('\n').filter((l) => l.startsWith('State:'))).toEqual([expect.stringMatching(/^State: +retrying, since /)]);
    expect(text).toContain('\\x1b[2J\\x1b[H\\x1b[32mconnected\\x1b[0m\\x0aState:    connected, all is well\\u202e');
  });
});
