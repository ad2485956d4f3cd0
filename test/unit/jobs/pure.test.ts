import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobLog, droppedMarker } from '../../../runtime/jobs/job-log.js';
import { UsageMeter } from '../../../runtime/jobs/metering.js';
import { decideOutcome, stopStateFromReason } from '../../../runtime/jobs/outcome.js';
import { ranMsFromEvents } from '../../../runtime/jobs/store.js';
import { LogDemuxer } from '../../../runtime/sandbox/log-demux.js';
import { makeTempHome } from '../../helpers/temp-home.js';

describe('decideOutcome', () => {
  it('exit 0 succeeds; other codes fail with the code; signals are named', () => {
    expect(decideOutcome({ stop: null, exitCode: 0, oomKilled: false })).toMatchObject({ state: 'succeeded', reason: 'exit-0' });
    expect(decideOutcome({ stop: null, exitCode: 3, oomKilled: false })).toMatchObject({ state: 'failed', reason: 'exit-3' });
    expect(decideOutcome({ stop: null, exitCode: 137, oomKilled: false }).detail).toMatch(/signal 9/);
  });
  it('reports an OOM kill as such, not as a generic failure', () => {
    expect(decideOutcome({ stop: null, exitCode: 137, oomKilled: true })).toMatchObject({ state: 'failed', reason: 'oom-killed' });
  });
  it('a stop request decides the state whatever the exit code', () => {
    const stop = { state: 'timed-out' as const, reason: 'max-duration', detail: 'x' };
    expect(decideOutcome({ stop, exitCode: 0, oomKilled: false })).toMatchObject({ state: 'timed-out', reason: 'max-duration' });
    expect(stopStateFromReason('max-duration')).toBe('timed-out');
    expect(stopStateFromReason('preempted')).toBe('preempted');
    expect(stopStateFromReason('exit-0')).toBeNull();
  });
});

describe('UsageMeter', () => {
  it('counts wall time, run time without pauses, and GPU-seconds', () => {
    const m = new UsageMeter(1000, ['GPU-a']);
    m.running(1000);
    m.paused(3000);
    m.running(5000);
    const u = m.finish(6000);
    expect(u).toMatchObject({ wallMs: 5000, runMs: 3000 });
    expect(u.gpus[0]).toMatchObject({ gpuKey: 'GPU-a', seconds: 3, avgUtilizationPct: null, energyJ: null, samples: 0 });
  });
  it('averages utilisation and integrates energy from samples of its GPUs only', () => {
    const m = new UsageMeter(0, ['GPU-a']);
    m.running(0);
    const s = (t: number, uuid: string, util: number, power: number) => ({ t, gpuIndex: 0, uuid, utilizationPct: util, memoryUsedMiB: 1, memoryTotalMiB: 2, temperatureC: 50, powerDrawW: power, smClockMHz: 1, fanPct: 1 });
    m.sample(s(0, 'GPU-a', 50, 100));
    m.sample(s(1000, 'GPU-a', 100, 200));
    m.sample(s(1000, 'GPU-b', 0, 999));
    const g = m.finish(2000).gpus[0]!;
    expect(g.avgUtilizationPct).toBe(75);
    expect(g.energyJ).toBe(150);
    expect(g.samples).toBe(2);
  });
  it('resumes for a re-adopted job with the time it already ran', () => {
    const m = UsageMeter.resume(0, [], 4000, 10_000);
    expect(m.finish(11_000)).toMatchObject({ wallMs: 11_000, runMs: 5000 });
  });
});

describe('ranMsFromEvents', () => {
  it('sums running stretches', () => {
    const e = [{ at: 0, state: 'queued' }, { at: 10, state: 'running' }, { at: 30, state: 'paused' }, { at: 50, state: 'running' }, { at: 60, state: 'running' }] as const;
    expect(ranMsFromEvents(e, 100)).toBe(20 + 50);
  });
});

describe('LogDemuxer', () => {
  it('splits frames, across chunk boundaries', () => {
    const frame = (type: number, text: string) => {
      const b = Buffer.alloc(8 + text.length);
      b[0] = type;
      b.writeUInt32BE(text.length, 4);
      b.write(text, 8);
      return b;
    };
    const got: string[] = [];
    const d = new LogDemuxer((s, data) => got.push(`${s}:${data.toString()}`));
    const all = Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops\n')]);
    d.push(all.subarray(0, 5));
    d.push(all.subarray(5, 17));
    d.push(all.subarray(17));
    expect(got).toEqual(['stdout:hello\n', 'stderr:oops\n']);
  });
});

describe('JobLog', () => {
  let cleanup = () => {};
  afterEach(() => cleanup());
  it('keeps up to the cap, counts the rest and marks it, keeps the latest tail', () => {
    const t = makeTempHome();
    cleanup = t.cleanup;
    const file = path.join(t.home, 'log.txt');
    const log = new JobLog(file, 10);
    expect(log.write(Buffer.from('12345678\n')).toString()).toBe('12345678\n');
    expect(log.write(Buffer.from('abcdef\nlast line\n')).toString()).toBe('a');
    log.close();
    expect(log.dropped).toBe(16);
    expect(fs.readFileSync(file, 'utf8')).toBe('12345678\na' + droppedMarker(16));
    expect(log.tailText).toContain('last line');
  });
  it('a re-adopted job replays the container log from the start without duplicating what the file holds', () => {
    const t = makeTempHome();
    cleanup = t.cleanup;
    const file = path.join(t.home, 'log.txt');
    const first = new JobLog(file, 100);
    first.write(Buffer.from('one\n'));
    // (the agent dies here: no close, no marker)
    const second = new JobLog(file, 100);
    second.replayFromStart();
    expect(second.write(Buffer.from('on')).length).toBe(0);
    expect(second.write(Buffer.from('e\ntwo\n')).toString()).toBe('two\n');
    second.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('one\ntwo\n');
    expect(second.tailText).toBe('one\ntwo\n');
  });
});
