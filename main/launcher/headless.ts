/**
 * The `npm start` fallback where the desktop window cannot open: the headless agent
 * (`node dist/runtime/cli.js agent`) with its dashboard, whose URL it prints; the URL is opened
 * in the default browser where there is one (xdg-open with a display on Linux, `open` on macOS,
 * `start` on Windows). Ctrl-C stops the agent cleanly (it stops its jobs first) and then the
 * launcher, with the agent's exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { agentNodeFlags } from '../../runtime/agent/node-flags.js';

const DASHBOARD_LINE = /^Dashboard: (http:\/\/127\.0\.0\.1:\d+\/\S*)$/m;

/** The command that opens a URL in the default browser here, or null (none, or no display). Pure. */
export function browserOpener(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, onPath: (command: string) => boolean): { command: string; args: (url: string) => string[] } | null {
  if (env.OFFSHIFT_OPEN_BROWSER === '0') return null;
  if (platform === 'darwin') return { command: 'open', args: (url) => [url] };
  if (platform === 'win32') return { command: 'cmd', args: (url) => ['/c', 'start', '""', url.replace(/&/g, '^&')] };
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return null;
  return onPath('xdg-open') ? { command: 'xdg-open', args: (url) => [url] } : null;
}

export function onPathIn(env: NodeJS.ProcessEnv): (command: string) => boolean {
  return (command) =>
    (env.PATH ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .some((dir) => {
        try {
          fs.accessSync(path.join(dir, command), fs.constants.X_OK);
          return true;
        } catch {
          return false;
        }
      });
}

export interface HeadlessOptions {
  cli: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  print(line: string): void;
  printError(line: string): void;
}

export function runHeadless(options: HeadlessOptions): Promise<number> {
  return new Promise((resolve) => {
    // Its own process group: the launcher forwards Ctrl-C once (a terminal would also send it to
    // the child, and a second SIGINT during the clean stop would cut it short).
    const child: ChildProcess = spawn(process.execPath, [...agentNodeFlags(options.env), options.cli, 'agent'], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: options.platform !== 'win32',
      windowsHide: true,
    });
    let opened = false;
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      if (opened) return;
      buffered = (buffered + chunk.toString()).slice(-8192);
      const m = DASHBOARD_LINE.exec(buffered);
      if (!m) return;
      opened = true;
      const opener = browserOpener(options.platform, options.env, onPathIn(options.env));
      if (!opener) {
        options.print('Open the dashboard URL above in a browser (no browser to open here).');
        return;
      }
      const b = spawn(opener.command, opener.args(m[1]!), { stdio: 'ignore', detached: true, env: options.env, windowsHide: true });
      b.on('error', () => options.print('Open the dashboard URL above in a browser.'));
      b.unref();
    });
    const forward = (signal: NodeJS.Signals) => () => {
      if (child.exitCode === null) child.kill(signal);
    };
    const handlers: Array<[NodeJS.Signals, () => void]> = [
      ['SIGINT', forward('SIGINT')],
      ['SIGTERM', forward('SIGTERM')],
      ['SIGHUP', forward('SIGTERM')],
    ];
    for (const [signal, handler] of handlers) process.on(signal, handler);
    // Never leave the agent behind if the launcher itself goes.
    const onExit = () => {
      if (child.exitCode === null) child.kill('SIGTERM');
    };
    process.on('exit', onExit);
    child.once('error', (error) => {
      options.printError(`Offshift: the headless agent could not start (${error.message}). Run \`npm run build\`, then \`npm run agent\`.`);
      resolve(1);
    });
    child.once('exit', (code, signal) => {
      for (const [s, handler] of handlers) process.off(s, handler);
      process.off('exit', onExit);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
