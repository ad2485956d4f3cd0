/**
 * What one job may cost: the defect was a jobs.run of many 65,000-character arguments, six of
 * which made one 47-byte jobs.list answer 5.95 MB. Every part of a spec is bounded in size,
 * the agent's own environment names are refused, and jobs.list is paged and returns summaries.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commands } from '../../../runtime/api/contract.js';
import { parseJobSpec } from '../../../runtime/jobs/outcome.js';
import { JOB_LIMITS, JOBS_PAGE, jobsRunInputSchema, type JobSpec } from '../../../runtime/jobs/schema.js';
import { JobStore, listPage } from '../../../runtime/jobs/store.js';
import { DATABASE_FILE, openDatabase, type Db } from '../../../runtime/storage/database.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const IMAGE = 'sha256:' + 'b'.repeat(64);
const parse = (spec: unknown) => parseJobSpec(spec, () => 'generated');

describe('job spec bounds', () => {
  it('refuses the command of the report (many 65,000-character arguments), and one just over the total', () => {
    expect(() => parse({ image: IMAGE, command: Array.from({ length: 64 }, () => 'x'.repeat(65_000)) })).toThrow(/command: at most 65536 characters in all/);
    expect(() => parse({ image: IMAGE, command: ['a'.repeat(JOB_LIMITS.commandChars), 'b'] })).toThrow(/command:/);
    expect(parse({ image: IMAGE, command: ['a'.repeat(JOB_LIMITS.commandChars - 1), 'b'] }).command).toHaveLength(2);
    expect(() => parse({ image: IMAGE, command: Array.from({ length: JOB_LIMITS.commandArgs + 1 }, () => 'a') })).toThrow(/at most 1024 arguments/);
  });
  it('bounds env (count and size), allow-lists, GPU lists and staged inputs', () => {
    const manyVars = Object.fromEntries(Array.from({ length: JOB_LIMITS.envVars + 1 }, (_, i) => [`V${i}`, '1']));
    expect(() => parse({ image: IMAGE, command: ['x'], env: manyVars })).toThrow(/env: at most 256 variables/);
    expect(() => parse({ image: IMAGE, command: ['x'], env: { A: 'x'.repeat(JOB_LIMITS.envChars) } })).toThrow(/env: at most 65536 characters/);
    expect(() => parse({ image: IMAGE, command: ['x'], network: { allow: Array.from({ length: 65 }, (_, i) => `h${i}.example`) } })).toThrow(/network/);
    expect(() => parse({ image: IMAGE, command: ['x'], gpus: Array.from({ length: 65 }, () => 'GPU-12345678-aaaa') })).toThrow(/gpus/);
    const spec = { image: IMAGE, command: ['x'] };
    expect(jobsRunInputSchema.safeParse({ spec, inputs: { 'a.txt': 'x'.repeat(JOB_LIMITS.inputChars) } }).success).toBe(false);
    expect(jobsRunInputSchema.safeParse({ spec, inputs: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`f${i}`, ''])) }).success).toBe(false);
    expect(jobsRunInputSchema.safeParse({ spec, inputs: { 'a.txt': 'hello' } }).success).toBe(true);
  });
  it('an error about a huge value stays small (found by the fuzzer: the image was echoed whole)', () => {
    let message = '';
    try {
      parse({ image: 'x'.repeat(200_000), command: ['x'] });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/image: "x{100}…" is not pinned/);
    expect(message.length).toBeLessThan(1000);
  });
  it.each(['NVIDIA_VISIBLE_DEVICES', 'NVIDIA_DRIVER_CAPABILITIES', 'nvidia_visible_devices', 'NVIDIA_REQUIRE_CUDA', 'CUDA_VISIBLE_DEVICES', 'HTTPS_PROXY', 'no_proxy', 'OFFSHIFT_HOME'])(
    'refuses %s in a job env: the agent sets it',
    (name) => {
      expect(() => parse({ image: IMAGE, command: ['x'], env: { [name]: 'all' } })).toThrow(new RegExp(`${name} is set by the agent`));
    },
  );
  it('keeps ordinary names, LD_PRELOAD included (it reaches only the job\'s own processes)', () => {
    expect(parse({ image: IMAGE, command: ['x'], env: { PYTHONPATH: '/x', LD_PRELOAD: '/scratch/x.so', CUDA_HOME: '/usr/local/cuda' } }).env).toHaveProperty('LD_PRELOAD');
  });
});

describe('jobs.list is paged and returns summaries', () => {
  let db: Db;
  let temp: { home: string; cleanup: () => void };
  beforeEach(() => {
    temp = makeTempHome();
    db = openDatabase(path.join(temp.home, DATABASE_FILE));
  });
  afterEach(() => {
    db.close();
    temp.cleanup();
  });

  it('the report\'s six huge records (stored before the bounds) make a small page; jobs.get still has the whole job', () => {
    const store = new JobStore(db);
    const huge = Array.from({ length: 16 }, () => 'x'.repeat(65_000));
    for (let i = 0; i < 6; i++) store.insert({ ...parse({ image: IMAGE, command: ['x'] }), id: `big-${i}`, command: huge, env: { BIG: 'y'.repeat(65_000) } } as JobSpec, [], 1000 + i, 'submitted', 'Queued.');
    const page = listPage(store);
    expect(page.jobs.map((j) => j.id)).toEqual(['big-5', 'big-4', 'big-3', 'big-2', 'big-1', 'big-0']);
    const bytes = JSON.stringify(page).length;
    console.log(`jobs.list with six 1 MB records: ${bytes} bytes (was 5.95 MB)`);
    expect(bytes).toBeLessThan(6 * 1024);
    expect(page.jobs[0]!.spec).not.toHaveProperty('command');
    expect(page.jobs[0]!.spec.image).toBe(IMAGE);
    expect(page.jobs[0]).not.toHaveProperty('logTail');
    expect(commands['jobs.list'].output.safeParse({ ...page, gpusOutOfService: [] }).success).toBe(true);
    expect(store.get('big-0')!.spec.command).toHaveLength(16);
  });

  it('pages newest first with a small default, an offset and the next offset', () => {
    const store = new JobStore(db);
    for (let i = 0; i < 120; i++) store.insert({ ...parse({ image: IMAGE, command: ['x'] }), id: `j${i}` }, [], i, 'submitted', 'Queued.');
    const first = listPage(store);
    expect(first.jobs).toHaveLength(JOBS_PAGE.defaultLimit);
    expect(first).toMatchObject({ total: 120, nextOffset: 50 });
    expect(first.jobs[0]!.id).toBe('j119');
    const last = listPage(store, 50, 100);
    expect(last.jobs.map((j) => j.id)).toEqual(Array.from({ length: 20 }, (_, i) => `j${19 - i}`));
    expect(last.nextOffset).toBeNull();
    expect(listPage(store, 50, 500)).toMatchObject({ jobs: [], nextOffset: null });
    expect(commands['jobs.list'].input.safeParse({ limit: JOBS_PAGE.maxLimit + 1 }).success).toBe(false);
    expect(commands['jobs.list'].input.safeParse({ offset: -1 }).success).toBe(false);
  });
});
