/**
 * What runs for one data folder, read from the process table: every process started with
 * OFFSHIFT_HOME set to it (the agent, the demo's market+buyer process, its guard) and every
 * process whose command line names it (the demo chain: anvil --state <home>/devnet/…). Linux.
 */
import fs from 'node:fs';

export interface HomeProcess {
  pid: number;
  command: string;
}

export function processesOf(home: string): HomeProcess[] {
  const found: HomeProcess[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      let environ = '';
      try {
        environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      } catch {}
      if (cmdline.includes(home) || environ.split('\0').includes(`OFFSHIFT_HOME=${home}`)) found.push({ pid: Number(entry), command: cmdline.slice(0, 200) });
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is gone for our purpose (its parent has not reaped it yet).
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Kills whatever still runs for `home` (a test's cleanup, also when it failed). */
export function killAllOf(home: string): void {
  for (const p of processesOf(home)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
  }
}
