/**
 * The real headless agent (`offshift agent --port 0`, its crash handler included) in a child
 * process, with one addition for the test: on an IPC message it throws an uncaught exception
 * or leaves a promise rejected, outside every handler, as a bug would.
 */
import { runCli } from '../../../runtime/cli.js';

process.on('message', (message) => {
  const token = process.env.CRASH_SECRET ?? '';
  if (message === 'throw') setImmediate(() => {
    throw new Error(`a bug outside every handler (token ${token})`);
  });
  if (message === 'reject') void Promise.reject(new Error(`a forgotten rejection (token ${token})`));
});

void runCli(['agent', '--port', '0'], {
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
}).then((code) => process.exit(code));
