/**
 * Fault injection: the real agent (a child process) SIGKILLed at random moments while jobs are
 * submitted, start, run and finish, 20 times over one data folder. Then: zero job records lost,
 * zero containers left behind, every job's final state right. Seeded; the seed is printed.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRunner } from '../../../runtime/jobs/runner.js';
import { connectDocker } from '../../../runtime/engine/index.js';
import { LABEL_AGENT } from '../../../runtime/sandbox/policy.js';
import { DATABASE_FILE, openDatabase } from '../../../runtime/storage/database.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { canBuildTestImage, sandboxTestImage } from '../../helpers/test-images.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'agent-child.ts');
const ROUNDS = 20;
const RUN = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const skipReason = canBuildTestImage();
if (skipReason) console.warn(`[agent kill] skipped: ${skipReason}`);

const rng = seededRandom;

/** Runs one agent until it is READY, lets it work for `ms`, then SIGKILLs it. */
async function runAndKill(home: string, image: string, round: number, ms: number): Promise<Map<string, string>> {
  // Job ids (and so container names, which the engine shares) unique to this run: another run at the same time, or one's leftovers, cannot collide.
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, home, image, `${RUN}-${round}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const submitted = new Map<string, string>();
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent never got ready: ${err}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const m of out.matchAll(/SUBMITTED (\S+) (\S+)/g)) submitted.set(m[1]!, m[2]!);
      if (out.includes('READY') && !timer.hasRef()) return;
      if (out.includes('READY')) {
        clearTimeout(timer);
        timer.unref();
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the agent exited (${code}) before it was killed: ${err}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  await new Promise((r) => setTimeout(r, ms));
  // It must still be running to be killed (an agent that ended on its own would hang the wait below).
  if (child.exitCode !== null) throw new Error(`the agent exited (${child.exitCode}) before it was killed: ${err}`);
  child.kill('SIGKILL');
  await exited;
  for (const m of out.matchAll(/SUBMITTED (\S+) (\S+)/g)) submitted.set(m[1]!, m[2]!);
  return submitted;
}

describe.skipIf(skipReason !== null)('the agent SIGKILLed at random moments', () => {
  let image: string;
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(() => {
    image = sandboxTestImage();
    temp = makeTempHome('offshift-kill-');
  });
  afterAll(async () => {
    const docker = connectDocker();
    const db = openDatabase(path.join(temp.home, DATABASE_FILE));
    const instance = (db.prepare("SELECT value FROM kv WHERE key = 'jobs.agentInstance'").get() as { value: string } | undefined)?.value;
    db.close();
    for (const line of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
      const dir = line.split(' ')[1];
      if (dir?.startsWith(temp.home)) spawnSync('umount', ['-l', dir]);
    }
    if (instance) {
      for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABEL_AGENT}=${instance}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    }
    temp.cleanup();
  });

  it(`${ROUNDS} kills: no record lost, no container left, every final state right`, async () => {
    const seed = Number(process.env.OFFSHIFT_FAULT_SEED ?? Date.now() % 1_000_000);
    console.log(`[agent kill] seed ${seed} (OFFSHIFT_FAULT_SEED=${seed} repeats this run)`);
    const random = rng(seed);
    const submitted = new Map<string, string>();
    for (let round = 0; round < ROUNDS; round++) {
      const ms = Math.floor(random() * 1200);
      for (const [id, kind] of await runAndKill(temp.home, image, round, ms)) submitted.set(id, kind);
    }

    // The next start: recovery, then every job in hand runs to its end.
    const db = openDatabase(path.join(temp.home, DATABASE_FILE));
    const docker = connectDocker();
    const runner = new JobRunner({ db, docker, home: temp.home, graceMs: 500 });
    try {
      await runner.recover();
      const all = runner.list(10_000);
      await Promise.all(all.map((j) => runner.wait(j.id)));
      const jobs = new Map(runner.list(10_000).map((j) => [j.id, j]));

      // Zero records lost: every job the API accepted has its record.
      const lost = [...submitted.keys()].filter((id) => !jobs.has(id));
      expect(lost, `seed ${seed}`).toEqual([]);
      expect(submitted.size).toBeGreaterThan(ROUNDS);
      // Every final state right: what the command did, or an honest "did not run".
      const notRun = new Set(['agent-restarted', 'start-interrupted']);
      const wrong: string[] = [];
      const counts: Record<string, number> = {};
      for (const job of jobs.values()) {
        const kind = /-(ok|slow|fail)$/.exec(job.id)?.[1];
        const key = `${job.state}:${job.reason}`;
        counts[key] = (counts[key] ?? 0) + 1;
        const ran = kind === 'fail' ? key === 'failed:exit-3' : key === 'succeeded:exit-0';
        const didNotRun = job.state === 'failed' && notRun.has(job.reason) && job.exitCode === null;
        if (!ran && !didNotRun) wrong.push(`${job.id} ${key} ${job.detail} [${runner.events(job.id).map((e) => `${e.state}:${e.reason}`).join(' → ')}]`);
        if (ran && kind !== 'fail' && !runner.logs(job.id).text.includes(kind!)) wrong.push(`${job.id}: its log lost its output`);
      }
      console.log(`[agent kill] ${ROUNDS} kills, ${jobs.size} jobs: ${JSON.stringify(counts)}`);
      expect(wrong, `seed ${seed}`).toEqual([]);
      // Zero containers left behind.
      const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL_AGENT}=${runner.agentInstance}`] } });
      expect(left.map((c) => c.Id), `seed ${seed}`).toEqual([]);
      // Nor mounts (each job's size-capped /output is a tmpfs the agent mounts before the container exists).
      await new Promise((r) => setTimeout(r, 200));
      const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(temp.home));
      expect(mounts, `seed ${seed}`).toEqual([]);
    } finally {
      await runner.close();
      db.close();
    }
  }, 240_000);
});
