/**
 * `npm start` (dist/main/launcher.js, plain node): starts the desktop app with the Electron
 * binary; where it cannot, says why in one line and runs the headless agent with its dashboard
 * in the browser instead. OFFSHIFT_ELECTRON_DOWNLOAD=0 skips the one download attempt;
 * OFFSHIFT_HEADLESS_FALLBACK=0 only explains.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findElectronBinary } from './launcher/electron-binary.js';
import { runHeadless } from './launcher/headless.js';
import { launch } from './launcher/launch.js';
import { runWithTimeout } from './launcher/run-with-timeout.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** dist/main/launcher.js → the app folder (where package.json is). */
const appDir = path.resolve(here, '..', '..');
const require = createRequire(import.meta.url);

function electronInstallScript(): string {
  try {
    return path.join(path.dirname(require.resolve('electron/package.json')), 'install.js');
  } catch {
    return path.join(appDir, 'node_modules', 'electron', 'install.js');
  }
}

const code = await launch({
  env: process.env,
  platform: process.platform,
  findBinary: () => findElectronBinary((id) => require(id)),
  download: (timeoutMs) => runWithTimeout(process.execPath, [electronInstallScript()], { timeoutMs, cwd: appDir, env: process.env }),
  runElectron: (binary) =>
    new Promise((resolve) => {
      const env = { ...process.env };
      delete env.ELECTRON_RUN_AS_NODE;
      const child = spawn(binary, [appDir], { stdio: 'inherit', env, windowsHide: false });
      const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
      const onInt = forward('SIGINT');
      const onTerm = forward('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      const done = (result: { code: number | null; signal: NodeJS.Signals | null } | { error: string }) => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        resolve(result);
      };
      child.once('error', (error) => done({ error: error.message }));
      child.once('exit', (exitCode, signal) => done({ code: exitCode, signal }));
    }),
  // The headless agent and its dashboard; the agent starts the demo network, which ends with it
  // (Ctrl-C included: test/integration/demo/lifetimes.test.ts).
  runHeadless: () =>
    runHeadless({
      cli: path.join(appDir, 'dist', 'runtime', 'cli.js'),
      cwd: appDir,
      env: process.env,
      platform: process.platform,
      print: (line) => process.stdout.write(line + '\n'),
      printError: (line) => process.stderr.write(line + '\n'),
    }),
  now: () => Date.now(),
  print: (line) => process.stdout.write(line + '\n'),
  printError: (line) => process.stderr.write(line + '\n'),
});
process.exit(code);
