/**
 * `offshift demo up|down|status`: the demo network on this computer (the local chain, the
 * reference market and a demo buyer paying test tokens). `demo serve` is that network's own
 * process, started detached by `demo up` and by the agent.
 */
import fs from 'node:fs';
import { AppError } from '../../errors.js';
import { createLogger } from '../../log.js';
import { demoDown, demoStatus, demoUp } from '../../demo/network.js';
import { resolveHome } from '../../storage/home.js';
import { numberOption } from '../args.js';
import type { CliCommand } from '../command.js';
import { printJson } from './wallet-common.js';

export const demoCommands: CliCommand[] = [
  {
    name: 'demo up',
    summary: 'Start the demo network on this computer: local chain, reference market, demo buyer (test tokens only).',
    usage: 'demo up [--json]',
    async run(args, io) {
      const home = resolveHome(io.env);
      if (!args.flags.has('json')) io.stderr('Starting the demo network (local chain, market, demo buyer)…\n');
      const { url, started } = await demoUp(home, { env: io.env });
      const status = demoStatus(home);
      if (args.flags.has('json')) printJson(io, { ...status, started, url });
      else io.stdout(`${started ? 'Started' : 'Already running'}: ${status.detail}\nThe agent connects to it by itself while no real market is set (\`offshift market config --url URL\` moves to one).\n`);
      return 0;
    },
  },
  {
    name: 'demo down',
    summary: 'Stop the demo network (the chain keeps its state for the next `demo up`). It also stops with the agent that uses it.',
    usage: 'demo down [--json]',
    async run(args, io) {
      const home = resolveHome(io.env);
      const stopped = await demoDown(home);
      if (args.flags.has('json')) printJson(io, stopped);
      else io.stdout(stopped.market || stopped.chain ? 'The demo network is stopped.\n' : 'The demo network was not running.\n');
      return 0;
    },
  },
  {
    name: 'demo status',
    summary: 'Whether the demo network runs, and what it has done.',
    usage: 'demo status [--json]',
    async run(args, io) {
      const status = demoStatus(resolveHome(io.env));
      if (args.flags.has('json')) printJson(io, status);
      else io.stdout(status.detail + '\n');
      return 0;
    },
  },
  {
    name: 'demo serve',
    summary: 'Run the demo network in this process: chain, market and buyer (what `demo up` starts in the background).',
    usage: 'demo serve',
    async run(_args, io) {
      const home = resolveHome(io.env);
      const log = demoLogger();
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const { serveDemo } = await import('../../demo/serve.js');
      await serveDemo(home, io.env, log, controller.signal);
      return 0;
    },
  },
  {
    name: 'demo guard',
    summary: 'Stop the demo chain when the agent with this pid is gone (started by an agent that runs the demo market in its own process).',
    usage: 'demo guard --owner PID',
    async run(args, io) {
      const owner = numberOption(args, 'owner');
      if (owner === undefined || !Number.isSafeInteger(owner) || owner <= 0) throw new AppError('usage', 'demo guard needs --owner PID: the agent whose demo chain it guards.');
      const home = resolveHome(io.env);
      const log = demoLogger();
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const { guardDemoChain } = await import('../../demo/guard.js');
      await guardDemoChain(home, owner, log, controller.signal);
      return 0;
    },
  },
];

/**
 * The detached demo processes log to demo/demo.log (their stderr). A full disk must not end them
 * nor silence them for good: a line that cannot be written is dropped, and the next one is tried.
 */
function demoLogger() {
  return createLogger((line) => {
    try {
      fs.writeSync(2, line);
    } catch {
      // Dropped (disk full); `demo status` still says what the buyer's problem is once space returns.
    }
  }, 'info');
}
