/**
 * The utilityProcess entry (dist/main/agent-process.js): the agent, in its own process, away
 * from the window and from main. Plain node plus Electron's `process.parentPort`; it never
 * imports electron, so the agent's code is the same that runs headless.
 */
import { createAgent } from '../runtime/agent/agent.js';
import { installCrashHandler } from '../runtime/agent/crash.js';
import { ignoredDevOverrides } from '../runtime/system/dev-overrides.js';
import { createLogger } from '../runtime/log.js';
import { ManualIdleSource } from '../runtime/schedule/sources/idle.js';
import { resolveHome } from '../runtime/storage/home.js';
import { VERSION } from '../runtime/version.js';
import { homeFromArgv } from './agent/messages.js';
import { serveAgent, type ParentPortLike } from './agent/serve-agent.js';

const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
if (!parentPort) {
  process.stderr.write('This is the Offshift desktop app\'s agent process; Electron starts it. For the headless agent run `npm run agent` (or `offshift agent`).\n');
  process.exit(2);
}

const log = createLogger((line) => process.stderr.write(line), process.env.OFFSHIFT_LOG_LEVEL === 'debug' ? 'debug' : 'info');
const home = homeFromArgv(process.argv) ?? resolveHome(process.env);
// The last resort: an uncaught error is logged, recorded (crash.json in the data folder) and
// ends this process; main sees the exit and starts a fresh agent, which reports the record.
installCrashHandler({ home, log, version: VERSION });
for (const name of ignoredDevOverrides(process.env)) log.warn(`${name} is ignored: it is honoured in tests and development only (docs/reliability.md)`);
// Idle time comes from main's powerMonitor; until its first reading, assume the owner is present.
const idle = new ManualIdleSource(0);
let lastIdleSeconds = 0;
const agent = createAgent({
  home,
  env: process.env,
  log,
  idleSource: idle,
  // `desktop.rememberPassword`: the checked password goes to main, which keeps it in the OS keychain.
  desktop: { rememberPassword: (password) => parentPort.postMessage({ type: 'remember-password', password }) },
});

serveAgent({
  parentPort,
  agent,
  exit: (code) => process.exit(code),
  warn: (message, fields) => log.warn(message, fields),
  onIdle: (seconds) => {
    // Idle time that went down means the owner came back: tell the availability loop now.
    if (seconds < lastIdleSeconds) idle.activity();
    idle.set(seconds);
    lastIdleSeconds = seconds;
  },
});

try {
  await agent.start();
  parentPort.postMessage({ type: 'ready', pid: process.pid });
  log.info('agent started in the desktop app', { home, pid: process.pid });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  log.error('the agent could not start', { error: message });
  parentPort.postMessage({ type: 'fatal', message });
  process.exit(1);
}
