/**
 * A market that lies to a provider, for the provider's admission tests: a real WebSocket server
 * that signs a real agent in (challenge, welcome on the test chain) and then sends whatever a
 * test scripts (offers in bursts, duplicates, confirmations of offers that were declined),
 * collecting every message the agent sends. Also: the agent, and a watch that checks at every
 * change of the runner's state or reservations that what is committed stays within capacity.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import type { Capacity } from '../../../runtime/jobs/reservations.js';
import { isFinalState } from '../../../runtime/jobs/schema.js';
import { silentLogger } from '../../../runtime/log.js';
import type { JobRequestInput, Offer } from '../../../protocol/index.js';
import type { MarketPatch } from '../../../runtime/market/settings.js';
import type { TestChain } from '../../helpers/anvil.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import type { Msg } from './peer.js';
import { until } from '../../helpers/until.js';

export class LyingMarket {
  readonly inbox: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  private listeners = new Set<(m: Msg) => void>();
  ws: WebSocket | null = null;
  signIns = 0;

  private constructor(
    private readonly server: WebSocketServer,
    readonly url: string,
    readonly chain: { chainId: number; escrow: string },
    /** The protocol revision its challenge names (1 unless a test asks for a later one). */
    version = 1,
  ) {
    server.on('connection', (ws, req) => {
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as Msg;
        if (m.type === 'hello') {
          const now = Date.now();
          ws.send(JSON.stringify({ type: 'challenge', version, nonce: `n${now}abcdefghijklmnop`, domain: req.headers.host, uri: `ws://${req.headers.host}/v1/provider`, chainId: chain.chainId, issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 60_000).toISOString() }));
          return;
        }
        if (m.type === 'sign-in') {
          this.signIns += 1;
          this.ws = ws;
          ws.send(JSON.stringify({ type: 'welcome', address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', session: 's', chainId: chain.chainId, escrow: chain.escrow }));
          return;
        }
        for (const l of this.listeners) l(m);
        const i = this.waiters.findIndex((w) => w.pred(m));
        if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
        else this.inbox.push(m);
      });
    });
  }

  static async start(chain: { chainId: number; escrow: string }, options: { version?: number } = {}): Promise<LyingMarket> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/provider' });
    await new Promise((r) => server.once('listening', r));
    return new LyingMarket(server, `ws://127.0.0.1:${(server.address() as { port: number }).port}`, chain, options.version);
  }

  /** Every message from the agent, as it comes (besides the inbox). */
  onMessage(listener: (m: Msg) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(m: unknown): void {
    if (!this.ws) throw new Error('no agent signed in');
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  next(pred: string | ((m: Msg) => boolean), timeoutMs = 10_000): Promise<Msg> {
    const test = typeof pred === 'string' ? (m: Msg) => m.type === pred : pred;
    const i = this.inbox.findIndex(test);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const w = { pred: test, resolve: (m: Msg) => (clearTimeout(timer), resolve(m)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no matching message in ${timeoutMs} ms; inbox: ${JSON.stringify(this.inbox.slice(-5)).slice(0, 800)}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** The reply to an offer. */
  reply(offerId: string, timeoutMs = 10_000): Promise<Msg & { accept: boolean; reason: string | null; detail: string }> {
    return this.next((m) => m.type === 'offer-reply' && m.offerId === offerId, timeoutMs) as never;
  }

  /** Drops what the agent sent so far (advertisements, replies no test waits for). */
  clear(): void {
    this.inbox.length = 0;
  }

  async close(): Promise<void> {
    for (const c of this.server.clients) c.terminate();
    await new Promise((r) => this.server.close(r));
  }
}

let counter = 0;
/** An offer of `job` (CPU only, cheap, short by default) that the agent's floor accepts. */
export function makeOffer(market: { chainId: number; escrow: string }, buyer: string, job: Partial<JobRequestInput> & { image: string }, over: Partial<Offer> = {}): Offer {
  counter += 1;
  const id = `${Date.now().toString(36)}-${counter}`;
  return {
    offerId: `offer-${id}`,
    jobId: `job-${id}`,
    job: {
      pullFrom: null,
      command: ['true'],
      env: {},
      gpus: 0,
      minVramMiB: 0,
      cpus: 0.5,
      memoryMiB: 64,
      diskMiB: 16,
      maxDurationSeconds: 60,
      network: 'none',
      inputs: [],
      outputMiB: 0,
      pricePerHour: tokens('36').toString(),
      reportIntervalSeconds: 5,
      ...job,
    } as Offer['job'],
    buyer,
    chainId: market.chainId,
    escrow: market.escrow,
    expiresAt: Date.now() + 10_000,
    ...over,
  };
}

/** A real agent (wallet on the test chain, the Docker runner) signed in to `market`. */
export async function startAgent(chain: TestChain, market: LyingMarket, settings: MarketPatch = {}, env: NodeJS.ProcessEnv = {}): Promise<{ agent: Agent; address: string; cleanup: () => Promise<void> }> {
  const temp = makeTempHome('offshift-lied-to-');
  fs.writeFileSync(
    path.join(temp.home, 'devnet.json'),
    JSON.stringify({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, port: Number(new URL(chain.rpcUrl).port), pid: chain.anvil.pid, token: chain.token, escrow: chain.escrow, fromBlock: 0, buyer: { address: chain.buyer.address, privateKey: chain.buyer.privateKey } }),
  );
  const agent = createAgent({
    home: temp.home,
    log: silentLogger,
    env: { ...process.env, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024', PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    idleSource: null,
    market: { enabled: true, demo: false, backoff: { minMs: 100, maxMs: 500 } },
  });
  const { address } = await agent.client().call('wallet.create', { password: 'lying market test' });
  agent.schedule.settings.update('market', { url: market.url, minPricePerJobHour: tokens('1').toString(), ...settings });
  await agent.start();
  await until('the agent to sign in to the lying market', async () => (await agent.client().call('market.status', {})).state === 'connected' && market.ws !== null, 30_000);
  return {
    agent,
    address,
    async cleanup() {
      await agent.jobs.runner.preemptAll(0).catch(() => {});
      await agent.stop();
      temp.cleanup();
    },
  };
}

export interface Violation {
  at: number;
  what: string;
}

/**
 * Checks, at every change of the runner's jobs or reservations, that the jobs not ended and the
 * reservations held stay within the capacity: slots (marketplace jobs), GPUs, CPUs, memory.
 */
export function watchCommitments(agent: Agent, capacity: Capacity): { violations: Violation[]; maxJobs: () => number; stop: () => void } {
  const runner = agent.jobs.runner;
  const violations: Violation[] = [];
  let maxJobs = 0;
  const check = () => {
    const jobs = runner.list(1000).filter((j) => !isFinalState(j.state));
    maxJobs = Math.max(maxJobs, jobs.length);
    const held = runner.reservations.list();
    const over = (what: string, n: number, max: number) => {
      if (n > max + 1e-9) violations.push({ at: Date.now(), what: `${what}: ${n} > ${max}` });
    };
    over('market jobs not ended', jobs.filter((j) => j.marketJobId).length, capacity.slots);
    over('offer reservations', held.filter((h) => h.kind === 'offer').length, capacity.slots);
    over('CPUs of jobs not ended', jobs.reduce((n, j) => n + j.spec.cpus, 0), capacity.cpus);
    over('CPUs reserved', held.reduce((n, h) => n + h.cpus, 0), capacity.cpus);
    over('memory of jobs not ended', jobs.reduce((n, j) => n + j.spec.memoryMiB, 0), capacity.memoryMiB);
    over('memory reserved', held.reduce((n, h) => n + h.memoryMiB, 0), capacity.memoryMiB);
    over('GPUs of jobs not ended', jobs.reduce((n, j) => n + j.gpus.length, 0), capacity.gpus.length);
    over('GPUs reserved', held.reduce((n, h) => n + h.gpuKeys.length, 0), capacity.gpus.length);
  };
  const offJobs = runner.onChange(check);
  const offHeld = runner.reservations.onChange(check);
  return {
    violations,
    maxJobs: () => maxJobs,
    stop: () => {
      offJobs();
      offHeld();
    },
  };
}
