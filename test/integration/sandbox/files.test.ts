/**
 * Inputs staged read-only at /input; outputs collected from a size-capped /output, by whichever
 * way the runner gives it here (a host tmpfs when the test process may mount, else a Docker tmpfs
 * volume held by the output keeper: runtime/sandbox/job-outputs.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { makeHarness, skipReason, type Harness } from '../jobs/harness.js';

let h: Harness;
let image: string;

describe.skipIf(skipReason !== null)('job inputs and outputs', () => {
  beforeAll(() => {
    image = sandboxTestImage();
    h = makeHarness();
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('stages inputs read-only and refuses paths that escape /input', async () => {
    const job = await h.runner.submit(
      { image, command: ['sh', '-c', 'cat /input/data/in.txt; echo x > /input/data/in.txt'], outputMiB: 0 },
      { inputs: { 'data/in.txt': 'hello input\n' } },
    );
    const done = await h.runner.wait(job.id);
    expect(done.state).toBe('failed');
    // stdout and stderr are two streams: their lines may interleave in either order.
    const log = h.runner.logs(job.id).text;
    expect(log).toContain('hello input');
    expect(log).toContain('Read-only file system');
    await expect(h.runner.submit({ image, command: ['true'] }, { inputs: { '../escape': 'x' } })).rejects.toThrow(/relative path inside \/input/);
    await expect(h.runner.submit({ image, command: ['true'] }, { inputs: { '/etc/passwd': 'x' } })).rejects.toThrow(/relative path/);
  });

  it('collects /output into the job folder; links are not followed; the folder is size-capped', async () => {
    const job = await h.runner.submit({
      image,
      outputMiB: 4,
      command: ['sh', '-c', 'echo result > /output/r.txt; mkdir /output/sub; echo deep > /output/sub/d.txt; ln -s /etc/passwd /output/link; dd if=/dev/zero of=/output/big bs=1M count=20'],
    });
    const done = await h.runner.wait(job.id);
    expect(done.state).toBe('failed'); // dd ran out of room
    expect(h.runner.logs(job.id).text).toMatch(/No space left on device/);
    const out = path.join(h.home, 'jobs', job.id, 'output');
    expect(fs.readFileSync(path.join(out, 'r.txt'), 'utf8')).toBe('result\n');
    expect(fs.readFileSync(path.join(out, 'sub/d.txt'), 'utf8')).toBe('deep\n');
    expect(fs.existsSync(path.join(out, 'link'))).toBe(false);
    expect(fs.statSync(path.join(out, 'big')).size).toBeLessThanOrEqual(4 * 1024 * 1024);
    // Collected into a plain folder: nothing stays mounted, no output volume or keeper is left.
    expect(fs.readFileSync('/proc/self/mounts', 'utf8')).not.toContain(out);
    const label = `io.offshift.output=${job.id}`;
    expect(await h.docker.listVolumes({ filters: { label: [label] } })).toMatchObject({ Volumes: [] });
    expect(await h.docker.listContainers({ all: true, filters: { label: [label] } })).toEqual([]);
  });
});
