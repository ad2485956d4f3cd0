/**
 * The agent's command handlers: its own (`agent.*`, `desktop.rememberPassword`), the system
 * check, and each capability's, all over the services of one agent.
 */
import type { Handlers } from '../api/dispatcher.js';
import { runSystemCheck } from '../check/system-check.js';
import { AppError } from '../errors.js';
import type { SystemCheck } from '../system/schema.js';
import { VERSION } from '../version.js';
import type { AgentOptions } from './options.js';
import type { CrashRecord } from './crash.js';
import type { AgentServices } from './services.js';
import type { AgentStateMachine } from './state.js';

export interface HandlerContext {
  options: AgentOptions;
  env: NodeJS.ProcessEnv;
  state: AgentStateMachine;
  startedAt: string;
  lastCrash: CrashRecord | null;
}

export function agentHandlers(ctx: HandlerContext, s: AgentServices): Handlers {
  const { options, env, state, lastCrash } = ctx;
  const { gpu, schedule, jobs, money, bench, desktop, market } = s;
  return {
    'agent.info': async () => ({
      version: VERSION,
      home: options.home,
      pid: process.pid,
      startedAt: ctx.startedAt,
      platform: process.platform,
      lastCrash: lastCrash && { at: lastCrash.at, kind: lastCrash.kind, name: lastCrash.name, message: lastCrash.message },
    }),
    'agent.state': async () => state.value,
    'gpu.list': async () => ({ gpus: await gpu.list() }),
    'gpu.telemetry': async ({ sinceMs }) => gpu.telemetry(sinceMs),
    ...jobs.handlers,
    ...money.handlers,
    'bench.run': async (input) => bench.run(input),
    'bench.history': async (input) => ({ entries: bench.history(input) }),
    'bench.selfTest': async () => bench.selfTest(),
    'bench.submitWebgpu': async (input) => bench.submitWebgpu(input),
    ...market.handlers,
    ...s.metrics.handlers,
    'system.check': async () => withCrashItem(await runSystemCheck({ env, home: options.home, gpu, policy: schedule.policy.current }), lastCrash),
    'system.processes': async () => ({ processes: schedule.runningProcesses() }),
    'schedule.get': async () => schedule.view(),
    'schedule.set': async (patch) => schedule.set(patch),
    'agent.pause': async (input) => schedule.pause(input),
    'agent.resume': async () => schedule.resume(),
    'policy.status': async () => schedule.policy.status(),
    'desktop.settings': async (patch) => desktop.set(patch),
    'desktop.host': async ({ host }) => desktop.setHost(host),
    'desktop.rememberPassword': async ({ password }) => {
      if (!options.desktop) throw new AppError('unavailable', 'Only the desktop app can keep the wallet password in the OS keychain; this agent runs without it.');
      await money.handlers['wallet.unlock']({ password });
      options.desktop.rememberPassword(password);
      return desktop.set({ rememberWalletPassword: true });
    },
  };
}

/** The system check names an unexpected stop since the last start (the record is in the data folder). */
function withCrashItem(check: SystemCheck, crash: CrashRecord | null): SystemCheck {
  if (!crash) return check;
  const item = { id: 'last-crash', title: 'Last stop', status: 'warn' as const, message: `The agent stopped on an unexpected error at ${crash.at} and was restarted: ${crash.name}: ${crash.message}`, detail: 'The record is crash.reported.json in the data folder; please include it in a bug report.' };
  return { ...check, items: [...check.items, item] };
}
