/**
 * The commands' one way to the engine: the running agent when one answers, else the local
 * services over the same data folder (runtime/agent/local-services.ts). What was opened is
 * closed, and the agent's API errors read as the CLI's own.
 */
import { ApiError } from '../api/client.js';
import { connectRunningAgent, openLocalServices, type LocalServices, type RunningAgent } from '../agent/local-services.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { scryptNOverride } from '../system/dev-overrides.js';
import { resolveHome } from '../storage/home.js';
import type { CliIO } from './command.js';

/** The local services over the data folder OFFSHIFT_HOME names; closed when `fn` ends. */
export async function withLocalServices<T>(io: CliIO, fn: (local: LocalServices) => Promise<T>, log?: Logger): Promise<T> {
  const local = openLocalServices(resolveHome(io.env), { env: io.env, log, scryptN: scryptNOverride(io.env) });
  try {
    return await fn(local);
  } finally {
    await local.close();
  }
}

export async function viaAgentOrLocal<T>(
  io: CliIO,
  viaAgent: (agent: RunningAgent) => Promise<T>,
  local: (services: LocalServices) => Promise<T>,
  options: { log?: Logger; localOnly?: boolean } = {},
): Promise<T> {
  const agent = options.localOnly ? null : await connectRunningAgent(resolveHome(io.env));
  if (!agent) return withLocalServices(io, local, options.log);
  try {
    return await viaAgent(agent);
  } catch (error) {
    if (error instanceof ApiError) throw new AppError(error.code, error.message);
    throw error;
  } finally {
    agent.client.close();
  }
}
