/**
 * What a stopped agent leaves on purpose (its running job's container, re-adopted at its next
 * start, and that job's output: a host mount, or, for an agent that may not mount, its keeper
 * container and volume): removed after a test or benchmark that stops one.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const docker = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

export function removeAgentLeftovers(home: string): void {
  let ids: string[] = [];
  try {
    ids = docker(['ps', '-aq', '--filter', 'label=io.offshift.managed=true']).split('\n').filter(Boolean);
  } catch {}
  for (const id of ids) {
    try {
      const mounts = docker(['inspect', '--format', '{{range .Mounts}}{{.Source}} {{end}}', id]);
      if (mounts.includes(home)) docker(['rm', '-f', id]);
    } catch {}
  }
  // Output keepers and volumes (labelled with their job's id) of the jobs in this home.
  let jobs: string[] = [];
  try {
    jobs = fs.readdirSync(path.join(home, 'jobs'));
  } catch {}
  for (const job of jobs) {
    try {
      for (const id of docker(['ps', '-aq', '--filter', `label=io.offshift.output=${job}`]).split('\n').filter(Boolean)) docker(['rm', '-f', id]);
      for (const v of docker(['volume', 'ls', '-q', '--filter', `label=io.offshift.output=${job}`]).split('\n').filter(Boolean)) docker(['volume', 'rm', '-f', v]);
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
