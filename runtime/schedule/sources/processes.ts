/**
 * Names of running processes, for the exclusive-apps rule and the app picker.
 * Linux: reads /proc directly. A pid seen before keeps its cached names, so a tick reads only
 * the folder listing plus the new pids; every few seconds all names are re-read (a process may
 * exec another program under the same pid). Each pid gives its `comm` and the base name of
 * its first command-line argument (how Wine/Proton games show as `cs2.exe`).
 * Elsewhere: `ps` (macOS) or `tasklist` (Windows) in the background, about once a second.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';

export interface ProcessSource {
  readonly description: string;
  /** Current names (may repeat). Cheap: called every tick. */
  names(): readonly string[];
  /** The pids with their names, for the picker. */
  list?(): ReadonlyArray<{ pid: number; names: readonly string[] }>;
  start?(): void;
  stop?(): void;
}

export class ProcFsProcessSource implements ProcessSource {
  readonly description = '/proc';
  private cache = new Map<number, string[]>();
  private lastFull = 0;
  private lastScan = 0;
  private current: string[] = [];
  private readonly kernelThreads = new Set<number>();

  constructor(
    private readonly procDir = '/proc',
    private readonly fullRefreshMs = 5000,
    /** Scans at most this often; more frequent calls reuse the last scan. */
    private readonly minScanMs = 450,
  ) {}

  names(): readonly string[] {
    const now = Date.now();
    if (now - this.lastScan < this.minScanMs) return this.current;
    this.lastScan = now;
    const full = now - this.lastFull >= this.fullRefreshMs;
    if (full) this.lastFull = now;
    let entries: string[];
    try {
      entries = fs.readdirSync(this.procDir);
    } catch {
      return (this.current = []);
    }
    const next = new Map<number, string[]>();
    const out: string[] = [];
    for (const entry of entries) {
      const c = entry.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const pid = Number(entry);
      const cached = this.cache.get(pid);
      let names = full ? undefined : cached;
      if (!names) {
        names = this.readNames(pid, full ? cached : undefined);
        if (!names) continue;
      }
      next.set(pid, names);
      for (const n of names) out.push(n);
    }
    this.cache = next;
    if (full) for (const pid of this.kernelThreads) if (!next.has(pid)) this.kernelThreads.delete(pid);
    this.current = out;
    return out;
  }

  /** User processes only (kernel threads have no command line), for the picker. */
  list(): ReadonlyArray<{ pid: number; names: readonly string[] }> {
    this.lastScan = 0;
    this.names();
    return [...this.cache].filter(([pid]) => !this.kernelThreads.has(pid)).map(([pid, names]) => ({ pid, names }));
  }

  private readNames(pid: number, previous?: string[]): string[] | undefined {
    let comm: string;
    try {
      comm = fs.readFileSync(`${this.procDir}/${pid}/comm`, 'utf8').trim();
    } catch {
      return undefined; // gone already
    }
    // Same pid, same comm: the same program (an exec changes comm); skip re-reading cmdline.
    if (previous && previous[0] === comm) return previous;
    const names = [comm];
    try {
      const cmdline = fs.readFileSync(`${this.procDir}/${pid}/cmdline`, 'utf8');
      if (cmdline === '') this.kernelThreads.add(pid);
      else this.kernelThreads.delete(pid);
      const first = cmdline.split('\0')[0] ?? '';
      const base = first.split(/[\\/]/).pop() ?? '';
      if (base && base !== comm) names.push(base);
    } catch {}
    return names;
  }
}

/** macOS and Windows: a background `ps`/`tasklist`, cached. */
export class CommandProcessSource implements ProcessSource {
  readonly description: string;
  private current: string[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly platform: NodeJS.Platform = process.platform,
    private readonly pollMs = 1000,
  ) {
    this.description = platform === 'win32' ? 'tasklist' : 'ps';
  }

  names(): readonly string[] {
    return this.current;
  }

  start(): void {
    const tick = () => {
      const [cmd, args] = this.platform === 'win32' ? ['tasklist', ['/fo', 'csv', '/nh']] : ['ps', ['-axo', 'comm=']];
      execFile(cmd as string, args as string[], { timeout: 5000, maxBuffer: 8 * 1024 * 1024, windowsHide: true }, (error, stdout) => {
        if (!error) this.current = this.platform === 'win32' ? parseTasklist(stdout) : parsePs(stdout);
        if (this.timer !== null) this.timer = setTimeout(tick, this.pollMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export function parsePs(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split('/').pop() ?? l);
}

export function parseTasklist(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^"([^"]+)"/.exec(line);
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

export function createProcessSource(platform: NodeJS.Platform = process.platform): ProcessSource {
  return platform === 'linux' ? new ProcFsProcessSource() : new CommandProcessSource(platform);
}
