import fs from 'node:fs';
import { createClient, type Client } from '../api/client.js';
import { createDispatcher, type Dispatch, type Handlers } from '../api/dispatcher.js';
import { EventBus } from '../api/events.js';
import { inProcessTransport } from '../api/transports/in-process.js';
import { createGpuService, type GpuService } from '../gpu/service.js';
import { createLogger, type Logger } from '../log.js';
import { runSystemCheck } from '../system/check.js';
import { VERSION } from '../version.js';
import { AgentStateMachine } from './state.js';

export interface AgentOptions {
  /** The data folder (created if missing). */
  home: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Telemetry sampling period; about once a second by default. */
  telemetryIntervalMs?: number;
}

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
  readonly log: Logger;
  /** A typed client over the in-process transport. */
  client(): Client;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createAgent(options: AgentOptions): Agent {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger();
  fs.mkdirSync(options.home, { recursive: true, mode: 0o700 });
  const startedAt = new Date().toISOString();
  const bus = new EventBus();
  const state = new AgentStateMachine((s) => {
    log.info('agent state', { state: s.state, reason: s.reason });
    bus.emit('agent.state', s);
  });

  const gpu = createGpuService({
    env,
    log,
    telemetryIntervalMs: options.telemetryIntervalMs ?? 1000,
    onSamples: (samples) => bus.emit('gpu.telemetry', { samples }),
    onTelemetryStatus: (status) => bus.emit('gpu.telemetryStatus', status),
  });

  const handlers: Handlers = {
    'agent.info': async () => ({ version: VERSION, home: options.home, pid: process.pid, startedAt, platform: process.platform }),
    'agent.state': async () => state.value,
    'gpu.list': async () => ({ gpus: await gpu.list() }),
    'gpu.telemetry': async ({ sinceMs }) => gpu.telemetry(sinceMs),
    'system.check': async () => runSystemCheck({ env, home: options.home, gpu }),
  };

  const dispatch = createDispatcher(handlers, (command, error) => log.error('command failed', { command, error }));

  return {
    home: options.home,
    bus,
    dispatch,
    state,
    gpu,
    log,
    client: () => createClient(inProcessTransport(dispatch, bus)),
    async start() {
      const gpus = await gpu.start();
      state.update({ started: true, gpuCount: gpus.length });
    },
    async stop() {
      await gpu.stop();
    },
  };
}
