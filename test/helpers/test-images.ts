/**
 * Test images, built here (no registry is reachable): a root filesystem of Debian's static
 * busybox with its applets, an /etc/passwd, and the `hostile` probe (test/fixtures/images/sandbox/
 * hostile.c, compiled with gcc -static) plus a setuid-root copy of it, imported with
 * `docker import`. Idempotent: the image is labelled with a hash of its inputs and reused.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from './temp-home.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HOSTILE_SRC = path.resolve(HERE, '../fixtures/images/sandbox/hostile.c');
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
export const TEST_IMAGE_LABEL = 'io.offshift.test-image';

export function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export function canBuildTestImage(): string | null {
  if (!BUSYBOX) return 'busybox-static is not installed (apt-get install busybox-static)';
  try {
    execFileSync('gcc', ['--version'], { stdio: 'pipe' });
  } catch {
    return 'gcc is not installed';
  }
  if (!dockerAvailable()) return 'the Docker engine is not reachable';
  return null;
}

/** The sandbox test image's local id (`sha256:…`), built once per set of inputs. */
export function sandboxTestImage(): string {
  const why = canBuildTestImage();
  if (why) throw new Error(`cannot build the test image: ${why}`);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(BUSYBOX!)).update(fs.readFileSync(HOSTILE_SRC)).update('v2').digest('hex').slice(0, 16);
  const label = `${TEST_IMAGE_LABEL}=sandbox-${hash}`;
  const found = execFileSync('docker', ['images', '-q', '--no-trunc', '--filter', `label=${label}`], { encoding: 'utf8' }).trim().split('\n')[0];
  if (found) return found;

  const dir = makeTempDir('offshift-image-');
  try {
    const root = path.join(dir, 'rootfs');
    for (const d of ['bin', 'etc', 'tmp', 'scratch', 'input', 'proc', 'sys', 'dev', 'mnt']) fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.chmodSync(path.join(root, 'tmp'), 0o1777);
    fs.copyFileSync(BUSYBOX!, path.join(root, 'bin/busybox'));
    fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
    const applets = execFileSync(BUSYBOX!, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
    for (const a of applets) fs.symlinkSync('busybox', path.join(root, 'bin', a));
    execFileSync('gcc', ['-static', '-O2', '-o', path.join(root, 'bin/hostile'), HOSTILE_SRC], { stdio: 'pipe' });
    fs.copyFileSync(path.join(root, 'bin/hostile'), path.join(root, 'bin/hostile-suid'));
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/scratch:/bin/sh\n');
    fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    fs.writeFileSync(path.join(root, 'etc/secret-in-image'), 'image file\n');
    const tar = path.join(dir, 'rootfs.tar');
    // Owned by root, with a setuid-root copy of the probe (tar keeps the mode bits).
    fs.chmodSync(path.join(root, 'bin/hostile-suid'), 0o4755);
    execFileSync('tar', ['-C', root, '--owner=0', '--group=0', '--numeric-owner', '-cf', tar, '.']);
    const id = execFileSync('docker', ['import', '--change', `LABEL ${label}`, '--change', `LABEL io.offshift.test=true`, tar, `offshift-test/sandbox:${hash}`], {
      encoding: 'utf8',
    }).trim();
    return id;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
