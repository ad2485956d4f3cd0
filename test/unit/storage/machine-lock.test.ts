import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withMachineLock } from '../../../runtime/storage/machine-lock.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the machine-wide lock', () => {
  let dir: string;
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lets one holder in at a time, and is gone after each', async () => {
    dir = makeTempDir('offshift-lock-');
    const inside: number[] = [];
    let most = 0;
    const holder = (i: number) =>
      withMachineLock('port', async () => {
        inside.push(i);
        most = Math.max(most, inside.length);
        await sleep(30);
        inside.splice(inside.indexOf(i), 1);
        return i;
      }, { dir });
    expect(await Promise.all([0, 1, 2, 3, 4].map(holder))).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(1);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('is released when the holder throws', async () => {
    dir = makeTempDir('offshift-lock-');
    await expect(withMachineLock('port', async () => Promise.reject(new Error('bind failed')), { dir })).rejects.toThrow('bind failed');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('takes over a lock left by a process that died', async () => {
    dir = makeTempDir('offshift-lock-');
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    fs.mkdirSync(path.join(dir, 'offshift-port.lock'));
    fs.writeFileSync(path.join(dir, 'offshift-port.lock', 'pid'), String(dead.pid));
    const started = Date.now();
    expect(await withMachineLock('port', async () => 'mine', { dir, waitMs: 5000 })).toBe('mine');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('waits for a live holder, then goes on without the lock after waitMs', async () => {
    dir = makeTempDir('offshift-lock-');
    fs.mkdirSync(path.join(dir, 'offshift-port.lock'));
    fs.writeFileSync(path.join(dir, 'offshift-port.lock', 'pid'), String(process.pid)); // alive: this process
    const started = Date.now();
    expect(await withMachineLock('port', async () => 'anyway', { dir, waitMs: 300 })).toBe('anyway');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    // Not its lock: left to its holder.
    expect(fs.existsSync(path.join(dir, 'offshift-port.lock'))).toBe(true);
  });

  it('a lock planted as a link to someone\'s folder is taken over by removing the link, never what it points to', async () => {
    dir = makeTempDir('offshift-lock-');
    const precious = path.join(dir, 'precious');
    fs.mkdirSync(precious);
    fs.writeFileSync(path.join(precious, 'keep.txt'), 'mine');
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    fs.writeFileSync(path.join(precious, 'pid'), String(dead.pid)); // read through the link: a dead holder
    fs.symlinkSync(precious, path.join(dir, 'offshift-port.lock'));
    expect(await withMachineLock('port', async () => 'mine', { dir, waitMs: 5000 })).toBe('mine');
    expect(fs.readFileSync(path.join(precious, 'keep.txt'), 'utf8')).toBe('mine');
    expect(fs.existsSync(path.join(dir, 'offshift-port.lock'))).toBe(false);
  });
});

