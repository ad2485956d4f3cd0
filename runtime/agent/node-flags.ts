/**
 * V8 flags for the long-running agent process, wherever it runs (the desktop app's
 * utilityProcess, the system service, `npm run agent`, the `npm start` fallback). The agent runs
 * 24/7 on the owner's machine and is idle most of the time, so memory beats peak speed:
 * - `--max-semi-space-size=1`: a 1 MiB young generation (default up to 16 MiB): the idle agent's
 *   steady small allocations (telemetry lines) are collected sooner instead of growing it;
 * - `--no-opt --max-lazy`: no optimizing compiler, functions compiled only when first called:
 *   less code and metadata resident. The agent's hot paths are I/O (Docker, nvidia-smi,
 *   SQLite), not JavaScript.
 * Not `--lite-mode` or `--jitless`: they remove WebAssembly, and Node's fetch (undici's HTTP
 * parser is WebAssembly) then crashes the process on its first request (the chain RPC, the
 * market). Measured: 69 MB resident either way.
 * Measured with test/bench/telemetry.ts (docs/desktop.md, "Idle cost").
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-opt', '--max-lazy'];

/** Only memory and compiler flags may be set this way: never --inspect, --require, --import and the like. */
const ALLOWED_FLAG = /^--(max-[a-z-]+=\d+|optimize-for-size|no-opt|max-lazy)$/;

/** The flags to start the agent with: OFFSHIFT_AGENT_NODE_FLAGS (space-separated; empty for none) overrides them. */
export function agentNodeFlags(env: NodeJS.ProcessEnv): string[] {
  const override = env.OFFSHIFT_AGENT_NODE_FLAGS;
  if (override === undefined) return [...AGENT_NODE_FLAGS];
  return override.split(/\s+/).filter((f) => ALLOWED_FLAG.test(f));
}
