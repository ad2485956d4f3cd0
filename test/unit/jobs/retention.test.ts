/**
 * Retention of finished jobs' folders: the pure plan (property-tested), and the rule applied to
 * real folders on disk with a real database (time injected, so "8 days ago" needs no waiting).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../runtime/log.js';
import { planRetention, Retention, type RetentionCandidate } from '../../../runtime/jobs/retention.js';
import { jobSpecSchema, type JobSpec } from '../../../runtime/jobs/schema.js';
import { JobStore } from '../../../runtime/jobs/store.js';
import { DATABASE_FILE, openDatabase, type Db } from '../../../runtime/storage/database.js';
import { fuzzSeed } from '../../helpers/hostile.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const DAY = 24 * 3600_000;
const MiB = 1024 * 1024;

describe('planRetention (pure)', () => {
  const candidate = fc.record({
    id: fc.string({ minLength: 1, maxLength: 6 }),
    endedAt: fc.option(fc.integer({ min: 0, max: 60 * DAY }), { nil: null }),
    bytes: fc.integer({ min: 0, max: 50 * MiB }),
    removable: fc.boolean(),
  });
  const rule = fc.record({ maxAgeDays: fc.integer({ min: 1, max: 40 }), maxTotalMiB: fc.integer({ min: 16, max: 400 }) });

  it('removes only what may go, oldest first, everything past the age, and by size only while over the limit', () => {
    fc.assert(
      fc.property(fc.uniqueArray(candidate, { selector: (c) => c.id, maxLength: 40 }), rule, fc.integer({ min: 0, max: 80 * DAY }), (cands, r, now) => {
        const plan = planRetention(cands, r, now);
        const byId = new Map(cands.map((c) => [c.id, c]));
        const eligible = (c: RetentionCandidate) => c.removable && c.endedAt !== null;
        // Never a job that is held (running, not collected, not sent) or has not ended.
        for (const p of plan) expect(eligible(byId.get(p.id)!)).toBe(true);
        // Oldest first.
        const ended = plan.map((p) => byId.get(p.id)!.endedAt!);
        expect(ended).toEqual([...ended].sort((a, b) => a - b));
        // Everything removable past the age limit goes, by the age rule.
        const cutoff = now - r.maxAgeDays * DAY;
        for (const c of cands.filter((c) => eligible(c) && c.endedAt! < cutoff)) expect(plan.find((p) => p.id === c.id)?.rule).toBe('age');
        // After the plan: under the size limit, or nothing removable is left.
        const removed = new Set(plan.map((p) => p.id));
        const left = cands.filter((c) => !removed.has(c.id));
        const total = left.reduce((n, c) => n + c.bytes, 0);
        expect(total <= r.maxTotalMiB * MiB || left.every((c) => !eligible(c))).toBe(true);
        // And no more than needed: before each removal by size, the folders were over the limit.
        let running = cands.reduce((n, c) => n + c.bytes, 0);
        for (const p of plan) {
          if (p.rule === 'size') expect(running).toBeGreaterThan(r.maxTotalMiB * MiB);
          running -= p.bytes;
        }
      }),
      { seed: fuzzSeed('planRetention'), numRuns: 2000 },
    );
  });
});

describe('Retention on real folders and a real database', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let db: Db;
  let store: JobStore;
  let now = 100 * DAY;
  const inHand = new Set<string>();
  const mounts: string[] = [];

  beforeEach(() => {
    temp = makeTempHome('offshift-retention-');
    db = openDatabase(path.join(temp.home, DATABASE_FILE));
    store = new JobStore(db);
    now = 100 * DAY;
    inHand.clear();
  });
  afterEach(() => {
    for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
    db.close();
    temp.cleanup();
  });

  const dir = (id: string) => path.join(temp.home, 'jobs', id);
  /** A job that ended `daysAgo` days ago (null: still running), with `mib` MiB of output and a log. */
  function job(id: string, daysAgo: number | null, mib = 1): void {
    const spec = { ...jobSpecSchema.parse({ image: `sha256:${'a'.repeat(64)}`, command: ['true'] }), id } as JobSpec;
    store.insert(spec, [], now - 30 * DAY, 'submitted', 'Queued.');
    if (daysAgo === null) store.transition(id, 'running', 'started', 'Running.', now - DAY);
    else store.transition(id, 'succeeded', 'exit-0', 'Done.', now - daysAgo * DAY, { endedAt: now - daysAgo * DAY });
    fs.mkdirSync(path.join(dir(id), 'output'), { recursive: true });
    fs.writeFileSync(path.join(dir(id), 'output', 'picture.png'), Buffer.alloc(mib * MiB - 100, 1));
    fs.writeFileSync(path.join(dir(id), 'log.txt'), 'x'.repeat(100));
  }
  const retention = (maxAgeDays: number, maxTotalMiB: number) =>
    new Retention({ db, home: temp.home, log: silentLogger, settings: () => ({ maxAgeDays, maxTotalMiB }), inHand: (id) => inHand.has(id), now: () => now });

  it('removes folders past the age limit, keeps the rest, records each removal', async () => {
    job('old', 8);
    job('older', 9);
    job('recent', 2);
    const r = retention(7, 1024);
    const run = await r.run();
    expect(run).toMatchObject({ removedJobs: 2, freedBytes: 2 * MiB });
    expect(fs.existsSync(dir('old'))).toBe(false);
    expect(fs.existsSync(dir('older'))).toBe(false);
    expect(fs.existsSync(dir('recent'))).toBe(true);
    expect(r.removal('old')).toEqual({ at: now, rule: 'age', bytes: MiB });
    expect(r.removal('recent')).toBeNull();
    // The job's record stays.
    expect(store.get('old')).toMatchObject({ state: 'succeeded' });
    expect(r.usage()).toMatchObject({ bytes: MiB, jobs: 1, heldJobs: 0, oldestEndedAt: now - 2 * DAY });
  });

  it('keeps the total under the size limit, oldest first, never a running job, one in hand, or a folder it has no record of', async () => {
    for (let i = 0; i < 6; i++) job(`j${i}`, 6 - i, 8); // j0 is the oldest; 48 MiB in all
    job('running', null, 8);
    inHand.add('j1'); // ended, but its output is still being collected
    fs.mkdirSync(dir('stranger'), { recursive: true });
    fs.writeFileSync(path.join(dir('stranger'), 'big'), Buffer.alloc(8 * MiB));
    const r = retention(30, 32);
    const run = await r.run();
    // 56 MiB known (running included) → j0, j2, j3 go (j1 is in hand): 32 MiB left.
    expect(run.removedJobs).toBe(3);
    expect(['j0', 'j1', 'j2', 'j3', 'j4', 'j5', 'running', 'stranger'].filter((id) => fs.existsSync(dir(id)))).toEqual(['j1', 'j4', 'j5', 'running', 'stranger']);
    expect(r.removal('j2')?.rule).toBe('size');
    expect(r.usage()).toMatchObject({ bytes: 32 * MiB, jobs: 4, heldJobs: 2, heldBytes: 16 * MiB });
    // Once collected, j1 is the oldest and goes at the next run if still over.
    inHand.delete('j1');
    job('j6', 0, 8);
    await r.run();
    expect(fs.existsSync(dir('j1'))).toBe(false);
    expect(fs.existsSync(dir('j4'))).toBe(true);
  });

  it('never removes a marketplace job whose output the market has not received', async () => {
    job('sent', 10);
    job('unsent', 10);
    for (const [local, sent] of [['sent', 1], ['unsent', 0]] as const) {
      db.prepare(
        `INSERT INTO market_jobs (job_id, local_job_id, market_url, buyer, price_per_hour, report_interval_s, chain_id, escrow, accepted_at, final_sent)
         VALUES (?, ?, 'ws://127.0.0.1:1', '0xb', '1', 10, 1, '0xe', 0, ?)`,
      ).run(`m-${local}`, local, sent);
    }
    const r = retention(7, 1024);
    await r.run();
    expect(fs.existsSync(dir('sent'))).toBe(false);
    expect(fs.existsSync(dir('unsent'))).toBe(true);
    db.prepare('UPDATE market_jobs SET final_sent = 1').run();
    await r.run();
    expect(fs.existsSync(dir('unsent'))).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)('never removes a folder with something mounted in it (an output tmpfs left mounted)', async () => {
    job('mounted', 10);
    const output = path.join(dir('mounted'), 'output');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', output]);
    mounts.push(output);
    fs.writeFileSync(path.join(output, 'still-here'), 'x');
    // Beside the mount: a removal that went ahead would take some of these before it hit the mount.
    for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir('mounted'), `note-${i}.txt`), 'x');
    const r = retention(7, 1024);
    expect((await r.run()).removedJobs).toBe(0);
    expect(fs.readFileSync(path.join(output, 'still-here'), 'utf8')).toBe('x');
    expect(fs.readdirSync(dir('mounted')).filter((f) => f.startsWith('note-'))).toHaveLength(20);
  });

  it('applies the rule at start, and then on its own every interval', async () => {
    job('a', 8);
    const r = retention(7, 1024);
    r.start(50);
    try {
      await expect.poll(() => fs.existsSync(dir('a'))).toBe(false);
      job('b', 8);
      await expect.poll(() => fs.existsSync(dir('b')), { timeout: 5000 }).toBe(false);
    } finally {
      r.stop();
    }
  });
});
