import { z } from 'zod';

export const agentStateNameSchema = z.enum(['starting', 'available', 'working', 'paused', 'error']);

/** The one value the tray, the dashboard header and the CLI show: a state and why. */
export const agentStateSchema = z.object({
  state: agentStateNameSchema,
  /** Machine-readable reason, e.g. `ok`, `no-gpu`, `user-active`, `docker-unreachable`. */
  reason: z.string(),
  /** The reason in plain words, e.g. "Paused: cs2.exe is running". */
  detail: z.string(),
  since: z.string(),
});
export type AgentState = z.infer<typeof agentStateSchema>;
export type AgentStateName = z.infer<typeof agentStateNameSchema>;

/** What the agent's state is worked out from (agent/state.ts); the market link reads it too. */
export interface StateInputs {
  started: boolean;
  /** A condition that stops all work, with its reason (e.g. `docker-unreachable`). */
  fatal: { reason: string; detail: string } | null;
  gpuCount: number;
  /** The availability decision (schedule, idle, games, heat…); null before the first one. */
  availability: { run: boolean; reason: string; detail: string } | null;
  /** A pause the owner asked for. */
  manualPause: { detail: string } | null;
  runningJobs: number;
}

export const noticeSchema = z.object({
  level: z.enum(['info', 'warn', 'error']),
  title: z.string(),
  message: z.string(),
});
export type Notice = z.infer<typeof noticeSchema>;

export const agentInfoSchema = z.object({
  version: z.string(),
  home: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  platform: z.string(),
  /** The unexpected error that stopped the agent before this start, if any (runtime/agent/crash.ts). */
  lastCrash: z.object({ at: z.string(), kind: z.string(), name: z.string(), message: z.string() }).nullable().optional(),
});
