/**
 * The messages between main and the agent's utilityProcess (over `process.parentPort`).
 * Both sides parse what they receive: a malformed message is ignored, never trusted.
 */
import { z } from 'zod';
import { agentStateSchema } from '../../runtime/agent/schema.js';

/** main → agent. `connect` carries one MessagePort (a window's connection) in `ports`. */
export const mainToAgentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('connect'), connectionId: z.number().int().nonnegative() }),
  z.object({ type: z.literal('shutdown') }),
  /** The owner's input idle time from Electron's powerMonitor (the agent process has none). */
  z.object({ type: z.literal('idle'), seconds: z.number().nonnegative() }),
]);
export type MainToAgent = z.infer<typeof mainToAgentSchema>;

/** agent → main. */
export const agentToMainSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('state'), state: agentStateSchema }),
  z.object({ type: z.literal('fatal'), message: z.string() }),
  /** A wallet password the agent has just checked, for main to keep in the OS keychain. */
  z.object({ type: z.literal('remember-password'), password: z.string().min(1).max(1024) }),
]);
export type AgentToMain = z.infer<typeof agentToMainSchema>;

/** The argv flag that carries the data folder to the agent process. */
export const HOME_ARG = '--offshift-home=';

export function homeFromArgv(argv: readonly string[]): string | null {
  const arg = argv.find((a) => a.startsWith(HOME_ARG));
  const value = arg?.slice(HOME_ARG.length);
  return value ? value : null;
}
