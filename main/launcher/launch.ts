/**
 * What `npm start` does, as a function of its dependencies (so each path is a unit test):
 * find the Electron binary, try once to fetch it if missing, and start the desktop app; where
 * it cannot (no binary, no display, Electron failing at once), say why in one line and run the
 * headless agent with its dashboard in the browser instead, so the first command always runs
 * the product. Never hangs, never a stack.
 */
import type { ElectronBinary } from './electron-binary.js';
import type { RunOutcome } from './run-with-timeout.js';

export const DOWNLOAD_TIMEOUT_MS = 20_000;
/** An app that exits non-zero this soon after starting failed to start. */
export const EARLY_EXIT_MS = 5_000;

export const HEADLESS_HINT = 'Run `npm run agent` instead: it starts the headless agent and prints a dashboard URL to open in your browser.';
export const FALLBACK_NOTE = 'so Offshift runs as the headless agent with its dashboard in your browser instead (Ctrl-C stops it).';

export function noBinaryMessage(reason: string): string {
  return `Offshift: the Electron binary is not available on this machine (${reason}), so the desktop app cannot start. ${HEADLESS_HINT}`;
}

export function noDisplayMessage(): string {
  return `Offshift: there is no graphical display here (neither DISPLAY nor WAYLAND_DISPLAY is set), so the desktop app cannot open a window. ${HEADLESS_HINT}`;
}

export function startFailedMessage(detail: string): string {
  return `Offshift: the desktop app could not start (${detail}). ${HEADLESS_HINT}`;
}

/** The one line printed before the headless fallback: why there is no desktop window. */
export function fallbackMessage(why: string): string {
  return `Offshift: ${why}, ${FALLBACK_NOTE}`;
}

export interface LaunchDeps {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  findBinary(): ElectronBinary;
  /** Runs electron's own install script with a time limit. */
  download(timeoutMs: number): Promise<RunOutcome>;
  /** Starts Electron on the app folder with inherited stdio; resolves when it exits. */
  runElectron(binary: string): Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: string }>;
  /** The fallback: runs the headless agent and its dashboard until Ctrl-C; resolves with its exit code. Absent: only explain. */
  runHeadless?(): Promise<number>;
  now(): number;
  print(line: string): void;
  printError(line: string): void;
}

export async function launch(deps: LaunchDeps): Promise<number> {
  let binary = deps.findBinary();
  if (!binary.found && deps.env.OFFSHIFT_ELECTRON_DOWNLOAD !== '0') {
    deps.print(`Downloading Electron… (one try, at most ${Math.round(DOWNLOAD_TIMEOUT_MS / 1000)} s)`);
    const outcome = await deps.download(DOWNLOAD_TIMEOUT_MS);
    if (outcome.outcome === 'ok') binary = deps.findBinary();
    else if (!binary.found) {
      const why =
        outcome.outcome === 'timeout'
          ? `the download did not finish within ${Math.round(outcome.timeoutMs / 1000)} s`
          : outcome.outcome === 'spawn-error'
            ? `the download could not run: ${outcome.message}`
            : 'the download failed';
      binary = { found: false, reason: `${binary.reason}; ${why}` };
    }
  }
  if (!binary.found) {
    if (deps.runHeadless && deps.env.OFFSHIFT_HEADLESS_FALLBACK !== '0') {
      deps.printError(fallbackMessage(`the Electron binary is not available on this machine (${binary.reason})`));
      return deps.runHeadless();
    }
    deps.printError(noBinaryMessage(binary.reason));
    return 1;
  }
  if (deps.platform === 'linux' && !deps.env.DISPLAY && !deps.env.WAYLAND_DISPLAY) {
    if (deps.runHeadless && deps.env.OFFSHIFT_HEADLESS_FALLBACK !== '0') {
      deps.printError(fallbackMessage('there is no graphical display here (neither DISPLAY nor WAYLAND_DISPLAY is set)'));
      return deps.runHeadless();
    }
    deps.printError(noDisplayMessage());
    return 1;
  }
  const startedAt = deps.now();
  const result = await deps.runElectron(binary.path);
  if ('error' in result) {
    deps.printError(startFailedMessage(result.error));
    return 1;
  }
  if (result.signal) return 1;
  const code = result.code ?? 1;
  if (code !== 0 && deps.now() - startedAt < EARLY_EXIT_MS) {
    deps.printError(startFailedMessage(`Electron exited with code ${code} right after starting; see the lines above`));
  }
  return code;
}
