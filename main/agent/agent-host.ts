/**
 * Hosts the agent in an Electron utilityProcess: starts it, hands each window a MessagePort to
 * it, and restarts it (with backoff, giving up after too many quick crashes) when it dies.
 * After a restart every window gets a fresh port; the preload switches to it by itself.
 */
import { MessageChannelMain, utilityProcess, type MessagePortMain, type UtilityProcess } from 'electron';
import { CHANNELS, type AgentStatusMessage, type PortMessage } from '../../preload/channels.js';
import { agentNodeFlags } from '../../runtime/agent/node-flags.js';
import type { AgentState } from '../../runtime/agent/schema.js';
import { agentToMainSchema, HOME_ARG, type MainToAgent } from './messages.js';
import { DEFAULT_RESTART_POLICY, decideRestart, type RestartPolicy } from './restart-policy.js';

/** A window's webContents, as far as the host uses it. */
export interface PortTarget {
  readonly id: number;
  isDestroyed(): boolean;
  /** The page's URL: the port is handed only to the app's own origin (app://offshift). */
  getURL(): string;
  postMessage(channel: string, message: unknown, transfer?: MessagePortMain[]): void;
  send(channel: string, ...args: unknown[]): void;
}

export type AgentHostStatus =
  | { status: 'starting' }
  | { status: 'running'; pid: number | null }
  | { status: 'restarting'; delayMs: number; exitCode: number }
  | { status: 'failed'; message: string }
  | { status: 'stopped' };

export interface HostLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface AgentHostOptions {
  /** dist/main/agent-process.js */
  entry: string;
  /** The agent's data folder (Electron's userData unless OFFSHIFT_HOME is set). */
  home: string;
  env?: Record<string, string | undefined>;
  policy?: RestartPolicy;
  log: HostLog;
  now?: () => number;
  /** Where the agent's stdout/stderr go (a log file); default: main's stderr. */
  output?: (chunk: Buffer | string) => void;
  onStatus?: (status: AgentHostStatus) => void;
  onAgentState?: (state: AgentState) => void;
  /** The agent checked a wallet password (`desktop.rememberPassword`) for the OS keychain. */
  onRememberPassword?: (password: string) => void;
  warn?: (message: string, fields?: Record<string, unknown>) => void;
}

/** What app.ts needs of wherever the agent lives: hosted here (AgentHost) or the service (ServiceLink). */
export interface AgentLinkHost {
  readonly running: boolean;
  start(): void;
  stop(timeoutMs?: number): Promise<void>;
  connect(target: PortTarget): void;
  disconnect(target: PortTarget): void;
  sendIdle(seconds: number): void;
}

/** True when `url` is a page of the app's own origin: the only pages that get an agent port. */
export function isAppPage(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'app:' && u.host === 'offshift';
  } catch {
    return false;
  }
}

export class AgentHost implements AgentLinkHost {
  private child: UtilityProcess | null = null;
  private readonly targets = new Map<number, PortTarget>();
  private readonly crashTimes: number[] = [];
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private stopping = false;
  private failedMessage: string | null = null;
  private nextConnectionId = 1;
  private exitWaiters: Array<() => void> = [];
  /** Increases with every (re)start; the preload sees it with each port. */
  generation = 0;

  constructor(private readonly options: AgentHostOptions) {}

  get running(): boolean {
    return this.child !== null;
  }

  start(): void {
    if (this.child || this.stopping) return;
    this.fork();
  }

  /**
   * Forwards the owner's input idle time to the agent. Sent on every reading (main polls
   * powerMonitor twice a second), so a return to the keyboard reaches the agent at once.
   */
  sendIdle(seconds: number): void {
    this.child?.postMessage({ type: 'idle', seconds } satisfies MainToAgent);
  }

  /** Gives `target` a port to the agent now (if it runs) and after every restart. */
  connect(target: PortTarget): void {
    this.targets.set(target.id, target);
    if (this.child) this.sendPort(this.child, target);
    else if (this.failedMessage) this.sendStatus(target, this.failedStatus(this.failedMessage));
  }

  disconnect(target: PortTarget): void {
    this.targets.delete(target.id);
  }

  /** Asks the agent to stop cleanly; kills it if it has not exited within `timeoutMs`. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (!child) return;
    let giveUp: ReturnType<typeof setTimeout> | null = null;
    const exited = new Promise<void>((resolve) => {
      this.exitWaiters.push(resolve);
      // Never let quitting hang on a process that will not even die.
      giveUp = setTimeout(resolve, timeoutMs + 2000);
    });
    child.postMessage({ type: 'shutdown' } satisfies MainToAgent);
    const timer = setTimeout(() => {
      this.options.log.warn('the agent did not stop in time; killing it', { timeoutMs });
      child.kill();
    }, timeoutMs);
    await exited;
    clearTimeout(timer);
    if (giveUp) clearTimeout(giveUp);
  }

  private fork(): void {
    this.generation += 1;
    this.options.onStatus?.({ status: 'starting' });
    const child = utilityProcess.fork(this.options.entry, [HOME_ARG + this.options.home], {
      serviceName: 'Offshift agent',
      stdio: 'pipe',
      // V8 flags for a process that idles 24/7 (runtime/agent/node-flags.ts).
      execArgv: agentNodeFlags(this.options.env ?? process.env),
      env: { ...(this.options.env ?? process.env) } as Record<string, string>,
    });
    this.child = child;
    const output = this.options.output ?? ((chunk: Buffer | string) => process.stderr.write(chunk));
    child.stdout?.on('data', output);
    child.stderr?.on('data', output);
    child.on('spawn', () => {
      this.options.log.info('agent process started', { pid: child.pid, generation: this.generation });
      this.options.onStatus?.({ status: 'running', pid: child.pid ?? null });
    });
    child.on('message', (data: unknown) => {
      const parsed = agentToMainSchema.safeParse(data);
      if (!parsed.success) return;
      if (parsed.data.type === 'state') this.options.onAgentState?.(parsed.data.state);
      else if (parsed.data.type === 'remember-password') this.options.onRememberPassword?.(parsed.data.password);
      else if (parsed.data.type === 'fatal') this.options.log.error('the agent reported a fatal error', { message: parsed.data.message });
    });
    child.on('error', (type: string, location: string) => {
      this.options.log.error('agent process fatal error', { type, location });
    });
    child.on('exit', (code: number) => this.onExit(child, code));
    for (const target of this.targets.values()) this.sendPort(child, target);
  }

  private sendPort(child: UtilityProcess, target: PortTarget): void {
    if (target.isDestroyed()) {
      this.targets.delete(target.id);
      return;
    }
    // A frame that navigated away from the app (it cannot: navigation is denied; but check the
    // URL at the moment of handing over) gets no port to the agent.
    if (!isAppPage(target.getURL())) {
      this.options.warn?.('refused an agent port to a page outside the app', { url: target.getURL().slice(0, 200) });
      return;
    }
    const { port1, port2 } = new MessageChannelMain();
    const connectionId = this.nextConnectionId++;
    child.postMessage({ type: 'connect', connectionId } satisfies MainToAgent, [port1]);
    target.postMessage(CHANNELS.port, { generation: this.generation } satisfies PortMessage, [port2]);
  }

  private sendStatus(target: PortTarget, message: AgentStatusMessage): void {
    if (!target.isDestroyed()) target.send(CHANNELS.agentStatus, message);
  }

  private broadcast(message: AgentStatusMessage): void {
    for (const target of [...this.targets.values()]) {
      if (target.isDestroyed()) this.targets.delete(target.id);
      else this.sendStatus(target, message);
    }
  }

  private failedStatus(message: string): AgentStatusMessage {
    return { status: 'failed', notice: { level: 'error', title: 'The agent has stopped', message } };
  }

  private onExit(child: UtilityProcess, code: number): void {
    if (child !== this.child) return;
    this.child = null;
    if (this.stopping) {
      this.options.log.info('agent process stopped', { code });
      this.options.onStatus?.({ status: 'stopped' });
      for (const resolve of this.exitWaiters.splice(0)) resolve();
      return;
    }
    const now = (this.options.now ?? Date.now)();
    this.crashTimes.push(now);
    const decision = decideRestart(this.crashTimes, now, this.options.policy ?? DEFAULT_RESTART_POLICY);
    if (decision.action === 'give-up') {
      this.failedMessage = decision.message;
      this.options.log.error('agent process keeps exiting; not restarting it', { code, crashes: decision.recentCrashes });
      this.options.onStatus?.({ status: 'failed', message: decision.message });
      this.broadcast(this.failedStatus(decision.message));
      return;
    }
    const seconds = Math.max(1, Math.round(decision.delayMs / 1000));
    this.options.log.warn('agent process exited unexpectedly; restarting it', { code, delayMs: decision.delayMs, crashes: decision.recentCrashes });
    this.options.onStatus?.({ status: 'restarting', delayMs: decision.delayMs, exitCode: code });
    this.broadcast({
      status: 'restarting',
      notice: {
        level: 'warn',
        title: 'The agent stopped and is restarting',
        message: `The Offshift agent exited unexpectedly (exit code ${code}). It restarts in about ${seconds} s; your settings and earnings records are kept.`,
      },
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) this.fork();
    }, decision.delayMs);
  }
}
