/** CPU time and resident memory of a process, from Linux's /proc (benchmarks). */
import fs from 'node:fs';

const CLK_TCK = 100;

/** CPU seconds a process has used (utime + stime). */
export function cpuSeconds(pid: number | 'self'): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident memory in MiB. */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Samples a process once a second for `seconds`: its CPU share of one core and its RSS. */
export async function sampleProcess(pid: number, seconds: number): Promise<{ cpuPct: number; rssMeanMiB: number; rssMaxMiB: number }> {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const rss: number[] = [];
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    rss.push(rssMiB(pid));
  }
  const wall = (performance.now() - t0) / 1000;
  return { cpuPct: ((cpuSeconds(pid) - cpu0) / wall) * 100, rssMeanMiB: rss.reduce((a, b) => a + b, 0) / rss.length, rssMaxMiB: Math.max(...rss) };
}
