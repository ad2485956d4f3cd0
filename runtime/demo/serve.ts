/**
 * The body of `offshift demo serve`, the demo network's one process (or, in the desktop app, a
 * part of the agent's): the local chain (started here, so it never outlives this process), the
 * reference market on a free port of 127.0.0.1 (its jobs kept in demo/market.db) and the demo
 * buyer (buyer.ts; GPU jobs too where the provider can run them). It writes demo/demo.json so the agent and `offshift demo status` find it.
 * It ends when `signal` aborts or its lifetime is over (lifetime.ts); as its own process it then
 * stops the chain too, so nothing of the demo is left running.
 */
import path from 'node:path';
import { devnetUp } from './devnet.js';
import type { Logger } from '../log.js';
import { connectDocker } from '../engine/index.js';
import type { RunningMarket } from '../../market/server.js';
import { runDemoBuyer } from './buyer.js';
import { demoFolderId, watchLifetime } from './lifetime.js';
import { demoChainPids, stopDemoChain } from './chain-processes.js';
import { DEMO_DIR } from './paths.js';
import { buyerReports, demoGpuSource, makeDemoFolder, startingDemoState } from './serve-steps.js';
import { readDemoState, saveDemoState } from './state.js';
import { demoTimings, type DemoTimings } from './timing.js';

export async function serveDemo(home: string, env: NodeJS.ProcessEnv, log: Logger, signal: AbortSignal, options: { inProcess?: boolean; timings?: DemoTimings } = {}): Promise<void> {
  const inProcess = options.inProcess ?? false;
  const timings = options.timings ?? demoTimings(env);
  const state = startingDemoState(home, inProcess);
  // The folder it runs for: a deleted one (or one made again since) ends it, and is never written to.
  makeDemoFolder(home);
  const folder = demoFolderId(home);
  const save = () => saveDemoState(home, state, log, folder);
  let chainPids: number[] = [];

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let market: Pick<RunningMarket, 'url' | 'market' | 'close'> | null = null;
  // Watched from the start: an agent killed while the network starts leaves nothing behind either.
  const lifetime = watchLifetime({
    home,
    // Inside the agent, the agent is the owner; a detached network reads its owner from demo.json (an agent may adopt it).
    owner: () => (inProcess ? process.pid : (readDemoState(home)?.ownerPid ?? null)),
    connected: () => (market?.market.stats().connected ?? 0) > 0,
    idleMs: timings.idleMs,
    onEnd: (reason) => {
      log.info(`the demo network stops: ${reason}`);
      state.problem = `It stopped by itself: ${reason}.`;
      stop.abort();
    },
  });
  try {
    const chain = await devnetUp(home, { env });
    chainPids = demoChainPids(home);
    state.buyer = chain.buyer.address;
    const docker = connectDocker(env);
    const { ensureDemoImage } = await import('./image.js');
    state.imageId = (await ensureDemoImage(docker, { log })).imageId;
    if (stop.signal.aborted) return;
    const { startMarket } = await import('../../market/server.js');
    market = await startMarket({ port: 0, dbFile: path.join(home, DEMO_DIR, 'market.db'), chainId: chain.chainId, escrow: chain.escrow, log });
    state.url = market.url;
    save();
    log.info('demo market listening', { url: market.url });
    const gpu = await demoGpuSource(docker, market, env, log);
    await runDemoBuyer({
      marketUrl: market.url,
      chain,
      imageId: state.imageId,
      outputs: path.join(home, DEMO_DIR, 'buyer-outputs'),
      jobsSubmitted: state.jobsSubmitted,
      timings,
      log,
      signal: stop.signal,
      gpu,
      ...buyerReports(state, save),
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
    lifetime.stop();
    await market?.close().catch((error: unknown) => log.warn('closing the demo market failed', { error: (error as Error).message }));
    state.url = null;
    state.pid = null;
    save();
    // Its own process owns the chain's life too (inside the agent, the agent and its guard stop it).
    if (!inProcess) await stopDemoChain(home, log, demoFolderId(home) === folder ? {} : { known: chainPids });
  }
}
