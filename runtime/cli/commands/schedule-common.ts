/**
 * Shared by `offshift schedule show`, `pause` and `resume`: talk to the running agent when
 * there is one (so its state changes at once and the admin's locks are checked by the same
 * code), else work on the settings file directly, which the agent reads when it starts.
 */
import { ApiError, createClient, type Client } from '../../api/client.js';
import { AppError } from '../../errors.js';
import { readToken } from '../../api/token.js';
import { connectWebSocket } from '../../api/transports/websocket-client.js';
import { readEndpoint } from '../../agent/discovery.js';
import { silentLogger } from '../../log.js';
import type { ScheduleView } from '../../schedule/schema.js';
import { createScheduleService, type ScheduleService } from '../../schedule/service.js';
import { resolveHome } from '../../storage/home.js';
import type { CliIO } from '../command.js';

export type Target = { kind: 'agent'; client: Client; port: number } | { kind: 'file'; service: ScheduleService };

export async function scheduleTarget(io: CliIO): Promise<Target> {
  const home = resolveHome(io.env);
  const endpoint = readEndpoint(home);
  const token = endpoint ? readToken(home) : null;
  if (endpoint && token) {
    try {
      const transport = await connectWebSocket(endpoint.port, token, 2000);
      return { kind: 'agent', client: createClient(transport), port: endpoint.port };
    } catch {
      // The agent is not answering: fall back to the file.
    }
  }
  const service = createScheduleService({ home, env: io.env, log: silentLogger, idle: null, processes: null, gpu: null, battery: null, onDecision: () => {} });
  return { kind: 'file', service };
}

export async function withTarget<T>(io: CliIO, fn: (t: Target) => Promise<T>): Promise<T> {
  const target = await scheduleTarget(io);
  try {
    return await fn(target);
  } catch (error) {
    if (error instanceof ApiError) throw new AppError(error.code, error.message);
    throw error;
  } finally {
    if (target.kind === 'agent') target.client.close();
    else await target.service.stop();
  }
}

export function whereNote(t: Target): string {
  return t.kind === 'agent' ? `(told the running agent on port ${t.port})` : '(no agent running: saved to the settings file; the agent applies it when it starts)';
}

export function snoozeLine(view: ScheduleView): string {
  const s = view.effective;
  if (s.pausedUntilResumed) return 'Paused until you run `offshift resume`.';
  if (s.snoozeUntil && new Date(s.snoozeUntil).getTime() > Date.now()) return `Paused until ${new Date(s.snoozeUntil).toLocaleString()} (${s.snoozeUntil}).`;
  return 'Not snoozed.';
}
