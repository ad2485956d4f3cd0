import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgressEvent } from '../../../runtime/jobs/schema.js';
import { startLocalRegistry, type LocalRegistry } from '../../helpers/local-registry.js';
import { TEST_IMAGE_LABEL } from '../../helpers/test-images.js';
import { makeHarness, skipReason, type Harness } from './harness.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const run = promisify(execFile);
let registry: LocalRegistry;
const harnesses: Harness[] = [];

/** An image that is not on this machine: busybox plus 3 MB of random bytes, imported, served, then removed locally. */
async function uniqueImage(): Promise<string> {
  const dir = makeTempDir('offshift-pull-rootfs-');
  try {
    fs.mkdirSync(path.join(dir, 'bin'));
    const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p))!;
    fs.copyFileSync(busybox, path.join(dir, 'bin', 'busybox'));
    fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
    for (const applet of ['sh', 'echo', 'true', 'cat']) fs.symlinkSync('busybox', path.join(dir, 'bin', applet));
    fs.writeFileSync(path.join(dir, 'payload.bin'), crypto.randomBytes(3 * 1024 * 1024));
    await run('tar', ['-cf', path.join(dir, '..', path.basename(dir) + '.tar'), '-C', dir, '.']);
    const { stdout } = await run('docker', ['import', '--change', `LABEL ${TEST_IMAGE_LABEL}=pull-test`, path.join(dir, '..', path.basename(dir) + '.tar')]);
    return stdout.trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(dir + '.tar', { force: true });
  }
}

describe.skipIf(skipReason !== null)('images pinned by digest: pulled with progress and verified', () => {
  beforeAll(async () => {
    const local = await uniqueImage();
    registry = await startLocalRegistry(local);
    await run('docker', ['rmi', '--force', local]); // so the runner must really download it
  });
  afterAll(async () => {
    for (const h of harnesses) await h.cleanup();
    await run('docker', ['rmi', '--force', registry.ref]).catch(() => {});
    await registry?.close();
  });

  it('pulls a missing image from the registry, reports the pull as progress up to 100%, verifies the digest and runs the job', async () => {
    const progress: JobProgressEvent[] = [];
    const h = makeHarness({ onProgress: (e) => progress.push(e) });
    harnesses.push(h);
    const job = await h.runner.submit({ image: registry.ref, command: ['sh', '-c', 'echo pulled && cat /payload.bin > /dev/null'] });
    const done = await h.runner.wait(job.id);
    expect(done.state, h.runner.logs(job.id).text).toBe('succeeded');
    expect(h.runner.logs(job.id).text).toContain('pulled');
    expect(registry.requests.some((r) => r.startsWith('GET /v2/offshift-test/pull/blobs/'))).toBe(true);

    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.id === job.id && p.phase === 'pull')).toBe(true);
    const fractions = progress.map((p) => p.fraction ?? 0);
    expect(fractions.at(-1)).toBe(1);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions); // never backwards
    expect(progress.at(-1)!.detail).toMatch(/^Pulling the image: 100% .*1 of 1 layer done/);
    const systemLines = h.logs.filter((l) => l.id === job.id && l.stream === 'system').map((l) => l.text).join('');
    expect(systemLines).toMatch(/\[pull\] Pulling the image: 100%/);
  });

  it('refuses an image the registry cannot serve under the pinned digest, and the next job runs normally', async () => {
    const h = makeHarness();
    harnesses.push(h);
    const wrong = registry.ref.replace(/@sha256:[0-9a-f]{64}$/, '@sha256:' + 'ab'.repeat(32));
    const job = await h.runner.submit({ image: wrong, command: ['true'] });
    const done = await h.runner.wait(job.id);
    expect(done).toMatchObject({ state: 'failed', reason: 'image-pull-failed' });
    const next = await h.runner.submit({ image: registry.ref, command: ['true'] });
    expect((await h.runner.wait(next.id)).state).toBe('succeeded');
  });
});
