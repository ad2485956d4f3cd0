import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chmodSync } from 'node:fs';
import { createAgent } from '../../agent/agent.js';
import { installCrashHandler } from '../../agent/crash.js';
import { ignoredDevOverrides } from '../../system/dev-overrides.js';
import { clearEndpoint, writeEndpoint } from '../../agent/discovery.js';
import { loadOrCreateToken, TOKEN_FILE } from '../../api/token.js';
import { serviceLocation } from '../../service/config.js';
import { probeService } from '../../service/probe.js';
import { startWebSocketServer } from '../../api/transports/websocket-server.js';
import type { Logger } from '../../log.js';
import { cliLogger } from '../logger.js';
import { resolveHome } from '../../storage/home.js';
import { VERSION } from '../../version.js';
import { numberOption, option } from '../args.js';
import type { CliCommand } from '../command.js';

export const DEFAULT_PORT = 7878;

/** dist/renderer beside the built CLI (dist/runtime/cli.js). */
function defaultStaticDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.resolve(here, '..', 'renderer');
}

export const agentCommand: CliCommand = {
  name: 'agent',
  summary: 'Run the headless agent and its web dashboard on 127.0.0.1.',
  usage: 'agent [--port N] [--password-file FILE] [--log-format json|pretty]   (port 0 picks a free one; default 7878. The password file unlocks the wallet to sign in to the market)',
  async run(args, io) {
    const home = resolveHome(io.env);
    const log = cliLogger(io, 'info', args);
    // An uncaught error is logged, recorded in the data folder and ends the process (exit 70)
    // for systemd (Restart=on-failure) to start a fresh agent.
    const removeCrashHandler = installCrashHandler({ home, log, version: VERSION });
    for (const name of ignoredDevOverrides(io.env)) log.warn(`${name} is ignored: it is honoured in tests and development only (docs/reliability.md)`);
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    const token = loadOrCreateToken(home, log);
    // The marketplace starts with the agent (the demo network on a fresh install); OFFSHIFT_MARKET=off
    // keeps it off (the test suite sets it: each test that wants a market starts one of its own).
    const agent = createAgent({ home, env: io.env, log, market: { enabled: io.env.OFFSHIFT_MARKET !== 'off', passwordFile: option(args, 'password-file') } });
    const port = numberOption(args, 'port') ?? (io.env.OFFSHIFT_PORT ? Number(io.env.OFFSHIFT_PORT) : DEFAULT_PORT);
    const server = await startWebSocketServer({
      dispatch: agent.dispatch,
      bus: agent.bus,
      token,
      port,
      staticDir: io.env.OFFSHIFT_DASHBOARD_DIR ?? defaultStaticDir(),
      extraOrigins: io.env.OFFSHIFT_DEV_ORIGIN ? [io.env.OFFSHIFT_DEV_ORIGIN] : [],
      log,
    }).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        // On a rig with the system service, that is the agent to use (docs/service.md).
        const service = await probeService(serviceLocation(io.env));
        if (service.state === 'running' && service.port === port) {
          throw new Error(`port ${port} is taken by the Offshift system service, which already runs the agent here: use it (\`offshift service status\`; its dashboard is on 127.0.0.1:${port}), or run a second agent on purpose with --port N.`);
        }
        throw new Error(`port ${port} is in use: is another agent running? Use --port N to pick another.`);
      }
      throw error;
    });
    try {
      writeEndpoint(home, { port: server.port, pid: process.pid, url: server.url });
      // The system service's token is readable by its group: the desktop app of its members attaches (docs/service.md).
      if (io.env.OFFSHIFT_TOKEN_MODE === '0640') chmodSync(path.join(home, TOKEN_FILE), 0o640);
      await agent.start();
    } catch (error) {
      // Never half-alive: an agent that did not start stops answering its API and exits with the reason.
      await agent.stop().catch(() => {});
      await server.close();
      throw error;
    }
    io.stdout(`Offshift agent ${agent.state.value.state}: ${agent.state.value.detail}\n`);
    io.stdout(`Dashboard: ${server.url}#token=${token}\n`);
    io.stdout(`Data folder: ${home}\n`);

    const why = await new Promise<'signal' | 'home-gone'>((resolve) => {
      const stop = () => resolve('signal');
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // A data folder deleted under the agent: nothing it does would be kept (its database is gone), so it stops.
      watchDataFolder(home, () => resolve('home-gone'));
    });
    if (why === 'home-gone') io.stderr(`offshift agent: the data folder ${home} was deleted while the agent ran: it stops (its jobs, earnings and wallet there are gone). Start it again to begin afresh.\n`);
    io.stdout('Stopping the agent…\n');
    const deadline = stopDeadline(log, () => agent.stopping(), why === 'signal' ? 0 : 1);
    await agent.stop();
    await server.close();
    if (why === 'signal') clearEndpoint(home);
    removeCrashHandler();
    deadline.stopped();
    return why === 'signal' ? 0 : 1;
  },
};

/** Calls `onGone` once when the data folder is deleted or replaced (checked every 2 s). */
function watchDataFolder(home: string, onGone: () => void): void {
  const id = (() => {
    try {
      const st = fs.statSync(home);
      return `${st.dev}:${st.ino}`;
    } catch {
      return null;
    }
  })();
  const timer = setInterval(() => {
    let now: string | null = null;
    try {
      const st = fs.statSync(home);
      now = `${st.dev}:${st.ino}`;
    } catch {}
    if (now === id) return;
    clearInterval(timer);
    onGone();
  }, 2000);
  timer.unref();
}

/**
 * A stop asked for ends the process within STOP_DEADLINE_MS, whatever hangs: a step that takes
 * longer is named in the log and the process exits (what it left, a job's container, the next
 * start finishes); a handle left open after a clean stop is named and the process exits too. A
 * second Ctrl-C or SIGTERM exits at once.
 */
export const STOP_DEADLINE_MS = 4000;
const LINGER_MS = 500;

function stopDeadline(log: Logger, step: () => string | null, code: number): { stopped(): void } {
  const now = () => process.exit(code);
  process.once('SIGINT', now);
  process.once('SIGTERM', now);
  const timer = setTimeout(() => {
    log.warn(`the agent did not stop within ${STOP_DEADLINE_MS / 1000} s (still stopping ${step() ?? 'the dashboard server'}): it exits now; the next start finishes what was left`);
    process.exit(code);
  }, STOP_DEADLINE_MS);
  timer.unref();
  return {
    stopped() {
      clearTimeout(timer);
      const linger = setTimeout(() => {
        log.warn('the agent stopped, but something was left open: it exits now', { open: process.getActiveResourcesInfo().filter((r) => r !== 'Timeout') });
        process.exit(code);
      }, LINGER_MS);
      linger.unref();
    },
  };
}
