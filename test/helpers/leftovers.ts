/**
 * What a stopped agent leaves on purpose (its running job's container, re-adopted at its next
 * start, and that job's output mount): removed after a test or benchmark that stops one.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export function removeAgentLeftovers(home: string): void {
  let ids: string[] = [];
  try {
    ids = execFileSync('docker', ['ps', '-aq', '--filter', 'label=io.offshift.managed=true'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
  } catch {}
  for (const id of ids) {
    try {
      const mounts = execFileSync('docker', ['inspect', '--format', '{{range .Mounts}}{{.Source}} {{end}}', id], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (mounts.includes(home)) execFileSync('docker', ['rm', '-f', id], { stdio: 'ignore' });
    } catch {}
  }
  for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1];
    if (target?.startsWith(home)) {
      try {
        execFileSync('umount', ['-l', target], { stdio: 'ignore' });
      } catch {}
    }
  }
}
