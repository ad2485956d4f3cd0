/**
 * The agent: its options, its parts (services.ts), its commands (handlers.ts), and the order in
 * which it starts and stops them.
 */
import fs from 'node:fs';
import { createClient, type Client } from '../api/client.js';
import { createDispatcher, type Dispatch } from '../api/dispatcher.js';
import { EventBus } from '../api/events.js';
import { inProcessTransport } from '../api/transports/in-process.js';
import type { BenchService } from '../bench/service.js';
import type { DesktopService } from '../desktop/service.js';
import type { GpuService } from '../gpu/service.js';
import type { JobsService } from '../jobs/service.js';
import { createLogger, type Logger } from '../log.js';
import type { MarketService } from '../market/service.js';
import type { ScheduleService } from '../schedule/service.js';
import type { LazyMoney } from '../wallet/lazy-money.js';
import { takeCrashRecord } from './crash.js';
import { agentHandlers } from './handlers.js';
import type { AgentOptions } from './options.js';
import { createAgentServices, type AgentServices } from './services.js';
import { AgentStateMachine } from './state.js';

export type { AgentOptions } from './options.js';

/**
 * The agent: plain Node, never electron. Owns the capabilities' services, the one state
 * machine, the event bus and the dispatcher. The same object runs in the desktop app's
 * utilityProcess, as `offshift agent` on a headless rig, and in-process in tests.
 */
export interface Agent {
  readonly home: string;
  readonly bus: EventBus;
  readonly dispatch: Dispatch;
  readonly state: AgentStateMachine;
  readonly gpu: GpuService;
  readonly jobs: JobsService;
  readonly schedule: ScheduleService;
  readonly money: LazyMoney;
  readonly bench: BenchService;
  readonly desktop: DesktopService;
  readonly market: MarketService;
  readonly log: Logger;
  /** A typed client over the in-process transport. */
  client(): Client;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** What stop() is stopping now (for a stop that takes too long), or null. */
  stopping(): string | null;
}

export function createAgent(options: AgentOptions): Agent {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger();
  fs.mkdirSync(options.home, { recursive: true, mode: 0o700 });
  const startedAt = new Date().toISOString();
  const lastCrash = takeCrashRecord(options.home, log);
  const bus = new EventBus();
  const state = new AgentStateMachine((s) => {
    log.info('agent state', { state: s.state, reason: s.reason });
    bus.emit('agent.state', s);
  });
  const services = createAgentServices({ options, env, log, bus, state });
  const { gpu, schedule, jobs, money, bench, desktop, market } = services;
  const dispatch = createDispatcher(agentHandlers({ options, env, state, startedAt, lastCrash }, services), (command, error) => log.error('command failed', { command, error }));
  let stopStep: string | null = null;

  return {
    home: options.home,
    bus,
    dispatch,
    state,
    gpu,
    schedule,
    jobs,
    money,
    bench,
    desktop,
    market,
    log,
    client: () => createClient(inProcessTransport(dispatch, bus)),
    async start() {
      const gpus = await gpu.start();
      state.update({ started: true, gpuCount: gpus.length });
      await jobs.start();
      schedule.start();
      money.start();
      if (options.market?.enabled) market.start();
      await services.metrics.start();
    },
    async stop() {
      services.unsubscribeTelemetry();
      for (const [name, step] of stopSteps(services)) {
        stopStep = name;
        await step();
      }
      stopStep = null;
    },
    stopping: () => stopStep,
  };
}

/** What stop() stops, in order, each with its name (for a stop that takes too long). */
function stopSteps(s: AgentServices): Array<[string, () => Promise<void> | void]> {
  return [
    // The demo network first: a start in flight is cut short, and its buyer waits on no job of ours.
    ['the demo network', () => s.demo?.stop()],
    ['the metrics', () => s.metrics.stop()],
    ['the marketplace', () => s.market.stop()],
    ['the schedule', () => s.schedule.stop()],
    ['the jobs', () => s.jobs.stop()],
    ['the wallet', () => s.money.stop()],
    ['the benchmarks', () => s.bench.close()],
    ['the GPU telemetry', () => s.gpu.stop()],
  ];
}
