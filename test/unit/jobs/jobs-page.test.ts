import { describe, expect, it } from 'vitest';
import type { Job } from '../../../runtime/jobs/schema.js';
import { appendLog, canCancel, jobDuration, limitsLine, mergeJob, stateTone } from '../../../renderer/src/lib/jobs.js';

const job = (id: string, over: Partial<Job> = {}): Job => ({
  id, marketJobId: null, spec: { id, image: 'sha256:' + 'a'.repeat(64), command: ['true'], env: {}, gpus: 0, cpus: 1, memoryMiB: 512, shmMiB: 64, diskMiB: 256, outputMiB: 64, timeoutSeconds: 60, network: 'none' },
  state: 'running', reason: 'started', detail: 'Running.', stateChangedAt: 0, createdAt: 0, startedAt: 1000, endedAt: null, exitCode: null, oomKilled: false, gpus: [], logTail: '', logDroppedBytes: 0, usage: null,
  ...over,
});

describe('Jobs page logic', () => {
  it('merges updates in place and puts new jobs first', () => {
    const list = [job('a'), job('b')];
    expect(mergeJob(list, job('b', { state: 'succeeded' })).map((j) => `${j.id}:${j.state}`)).toEqual(['a:running', 'b:succeeded']);
    expect(mergeJob(list, job('c')).map((j) => j.id)).toEqual(['c', 'a', 'b']);
  });
  it('keeps a long live log bounded, cut at a line start', () => {
    let log = { text: '', trimmed: false };
    for (let i = 0; i < 10_000; i++) log = appendLog(log.text, `line ${i}\n`, 1000);
    expect(log.text.length).toBeLessThanOrEqual(1000);
    expect(log.trimmed).toBe(true);
    expect(log.text.startsWith('line ')).toBe(true);
    expect(log.text.endsWith('line 9999\n')).toBe(true);
  });
  it('formats durations, tones, cancellability and limits', () => {
    expect(jobDuration(job('a', { startedAt: null }), 0)).toBe('—');
    expect(jobDuration(job('a', { startedAt: 0, endedAt: 500 }), 0)).toBe('500 ms');
    expect(jobDuration(job('a', { startedAt: 0, endedAt: 125_000 }), 0)).toBe('2 min 5 s');
    expect(jobDuration(job('a', { startedAt: 0 }), 30_000)).toBe('30 s');
    expect(stateTone('failed')).toBe('fail');
    expect(canCancel('running')).toBe(true);
    expect(canCancel('succeeded')).toBe(false);
    expect(limitsLine(job('a'))).toBe('1 CPU · 512 MiB memory · 256 MiB scratch · 64 MiB shm · max 60 s · no network');
  });
});
