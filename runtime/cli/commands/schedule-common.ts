/**
 * Shared by `offshift schedule show`, `pause` and `resume`: talk to the running agent when
 * there is one (so its state changes at once and the admin's locks are checked by the same
 * code), else work on the settings file directly, which the agent reads when it starts.
 */
import type { Client } from '../../api/client.js';
import type { ScheduleView } from '../../schedule/schema.js';
import type { ScheduleService } from '../../schedule/service.js';
import { viaAgentOrLocal } from '../agent-or-local.js';
import type { CliIO } from '../command.js';

export type Target = { kind: 'agent'; client: Client; port: number } | { kind: 'file'; service: ScheduleService };

export function withTarget<T>(io: CliIO, fn: (t: Target) => Promise<T>): Promise<T> {
  return viaAgentOrLocal(
    io,
    ({ client, port }) => fn({ kind: 'agent', client, port }),
    (local) => fn({ kind: 'file', service: local.schedule() }),
  );
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
