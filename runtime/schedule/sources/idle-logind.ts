/**
 * Idle time from systemd-logind on Linux: the IdleHint/IdleSinceHint of the active graphical
 * session (set by the desktop environment, e.g. GNOME after its idle delay). Text sessions
 * (ssh, a headless rig) have no meaningful hint, so without a graphical session this source
 * reports none. Polls `loginctl` in the background; `idleSeconds()` only reads the cache.
 */
import { execFile } from 'node:child_process';
import type { IdleSource } from './idle.js';

export interface LogindSession {
  id: string;
  type: string;
  active: boolean;
  userClass: string;
  idleHint: boolean;
  /** Unix microseconds. */
  idleSinceUs: number;
}

/** Parses `loginctl show-session ID -p …` output. Pure. */
export function parseShowSession(id: string, text: string): LogindSession {
  const props = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) props.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return {
    id,
    type: props.get('Type') ?? '',
    active: props.get('Active') === 'yes',
    userClass: props.get('Class') ?? '',
    idleHint: props.get('IdleHint') === 'yes',
    idleSinceUs: Number(props.get('IdleSinceHint') ?? 0) || 0,
  };
}

export function isGraphical(s: LogindSession): boolean {
  return ['x11', 'wayland', 'mir'].includes(s.type) && s.userClass === 'user';
}

/** Idle seconds from a session's hint at `nowMs`. */
export function idleFromSession(s: LogindSession, nowMs: number): number {
  if (!s.idleHint) return 0;
  if (s.idleSinceUs <= 0) return 0;
  return Math.max(0, (nowMs - s.idleSinceUs / 1000) / 1000);
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 2000, encoding: 'utf8' }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

export class LogindIdleSource implements IdleSource {
  description = 'logind (no graphical session)';
  private session: LogindSession | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polls = 0;
  private nextDiscoveryAt = 0;

  constructor(private readonly pollMs = 1000) {}

  idleSeconds(): number | null {
    return this.session ? idleFromSession(this.session, Date.now()) : null;
  }

  start(): void {
    const tick = () => {
      void this.poll().finally(() => {
        // Without a session, sleep until the next discovery instead of waking every second.
        const wait = this.session ? this.pollMs : Math.max(this.pollMs, this.nextDiscoveryAt - Date.now());
        if (this.timer !== null) this.timer = setTimeout(tick, wait).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    // Without a graphical session (or without logind) look again only every 30 s: a headless
    // rig should not pay for a process spawn every second.
    if (!this.session && Date.now() < this.nextDiscoveryAt) return;
    try {
      let id = this.session?.id;
      if (!id || this.polls++ % 30 === 0) {
        id = undefined;
        const list = await run('loginctl', ['list-sessions', '--no-legend']);
        for (const line of list.split('\n')) {
          const candidate = line.trim().split(/\s+/)[0];
          if (!candidate) continue;
          const s = parseShowSession(candidate, await run('loginctl', ['show-session', candidate, ...PROPS]));
          if (isGraphical(s) && s.active) {
            id = candidate;
            break;
          }
        }
      }
      if (!id) {
        this.session = null;
        this.description = 'logind (no graphical session)';
        this.nextDiscoveryAt = Date.now() + 30_000;
        return;
      }
      this.session = parseShowSession(id, await run('loginctl', ['show-session', id, ...PROPS]));
      this.description = `logind session ${id}`;
    } catch {
      this.session = null;
      this.description = 'logind (unavailable)';
      this.nextDiscoveryAt = Date.now() + 30_000;
    }
  }
}

const PROPS = ['-p', 'Type', '-p', 'Active', '-p', 'Class', '-p', 'IdleHint', '-p', 'IdleSinceHint'];
