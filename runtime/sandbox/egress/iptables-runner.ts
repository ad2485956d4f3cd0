/**
 * Where the firewall's iptables commands run: here (execFile, for an agent with root or
 * CAP_NET_ADMIN), or in a short-lived container through the Docker engine (iptables-engine.ts,
 * for an agent in the docker group without the capability). Which rules are installed is
 * decided in one place, firewall.ts, whatever runs them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export type IptablesBinary = 'iptables' | 'ip6tables';

/** Runs one iptables command: null when it succeeded, else the first line it printed (or why it could not start). */
export type Iptables = (bin: IptablesBinary, args: readonly string[]) => Promise<string | null>;

export interface IptablesRunner {
  /** Where the commands run, for messages: "on this machine", "in a container through the Docker engine". */
  readonly where: string;
  /** Runs `work`, whose commands share one setup (for the engine: one container per call). */
  session<T>(work: (iptables: Iptables) => Promise<T>): Promise<T>;
}

/**
 * The first line of what a failed command printed, else `fallback`. Pure. Comment lines are
 * skipped: iptables-nft prints "# Warning: iptables-legacy tables present ..." before its error.
 */
export function firstLine(text: string, fallback: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !l.startsWith('#')) ?? fallback
  );
}

const execFileAsync = promisify(execFile);

const runHere: Iptables = async (bin, args) => {
  try {
    await execFileAsync(bin, ['-w', '5', ...args], { timeout: 10_000 });
    return null;
  } catch (error) {
    const e = error as { code?: unknown; stderr?: string; message?: string };
    if (e.code === 'ENOENT') return `${bin} is not installed`;
    return firstLine(e.stderr ?? '', e.message ?? 'failed');
  }
};

/** iptables run by this process (needs root or CAP_NET_ADMIN, and CAP_NET_RAW for the legacy backend). */
export const localIptables: IptablesRunner = {
  where: 'on this machine',
  session: (work) => work(runHere),
};
