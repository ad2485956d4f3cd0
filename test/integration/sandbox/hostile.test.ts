/**
 * The hostile-job suite: jobs that try to break out, each on the real engine. Each must be
 * contained, end with the right state and reason, and leave the next job running normally.
 * The `hostile` probe (test/fixtures/images/sandbox/hostile.c) prints BLOCKED or ESCAPED.
 */
import net from 'node:net';
import os from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../runtime/jobs/schema.js';
import { droppedMarker } from '../../../runtime/jobs/job-log.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { makeHarness, skipReason, type Harness } from '../jobs/harness.js';

let h: Harness;
let image: string;
let server: net.Server;
let port = 0;
let accepted = 0;

/** Every IPv4 address of this host, plus Docker's bridge gateway. */
function hostAddresses(): string[] {
  const out = new Set<string>(['127.0.0.1', '172.17.0.1']);
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4') out.add(a.address);
  return [...out];
}

describe.skipIf(skipReason !== null)('hostile jobs are contained', () => {
  beforeAll(async () => {
    image = sandboxTestImage();
    h = makeHarness({ logCapBytes: 256 * 1024 });
    // A host service bound to every interface (as careless services are), standing for any
    // host service and for the agent's own API port.
    server = net.createServer((s) => {
      accepted++;
      s.end('host secret\n');
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    server?.close();
    await h?.cleanup();
  });
  afterEach(async () => {
    // The next job runs normally.
    const next = await run({ command: ['sh', '-c', 'echo next ok > /scratch/f && cat /scratch/f'] });
    expect(next).toMatchObject({ state: 'succeeded', reason: 'exit-0' });
    expect(next.logTail).toContain('next ok');
  });

  const run = async (spec: Record<string, unknown>): Promise<Job> => {
    const job = await h.runner.submit({ image, timeoutSeconds: 20, ...spec });
    return h.runner.wait(job.id);
  };
  const text = (job: Job) => h.runner.logs(job.id).text;
  const probe = async (...args: string[]) => {
    const job = await run({ command: args });
    expect(text(job)).not.toContain('ESCAPED');
    expect(text(job)).toContain('BLOCKED');
    expect(job).toMatchObject({ state: 'succeeded', reason: 'exit-0' });
    return job;
  };

  it('cannot write the root filesystem', async () => {
    const job = await run({ command: ['sh', '-c', 'echo pwned > /etc/passwd; echo pwned > /pwned'] });
    expect(job.state).toBe('failed');
    expect(job.reason).toMatch(/^exit-/);
    expect(text(job)).toMatch(/Read-only file system/);
  });

  it('cannot write outside its scratch folder (input is read-only, /tmp is noexec)', async () => {
    const job = await run({ command: ['sh', '-c', 'echo ok > /scratch/a && echo x > /input/x; cp /bin/busybox /tmp/bb && /tmp/bb true'] });
    expect(job.state).toBe('failed');
    expect(text(job)).toMatch(/\/input\/x: Read-only file system/);
    expect(text(job)).toMatch(/Permission denied/);
  });

  it('cannot mount', async () => {
    await probe('hostile', 'mount');
    const job = await run({ command: ['mount', '-t', 'tmpfs', 'none', '/mnt'] });
    expect(job.state).toBe('failed');
    expect(text(job)).toMatch(/Operation not permitted|permission denied/i);
  });

  it('cannot load a kernel module', async () => {
    await probe('hostile', 'module');
  });

  it('cannot open a raw socket', async () => {
    await probe('hostile', 'rawsock');
  });

  it('cannot escalate through a setuid-root binary', async () => {
    const job = await probe('hostile-suid', 'setuid');
    expect(text(job)).toContain('BLOCKED setuid');
  });

  it('a fork bomb hits the process limit and ends at its maximum duration', async () => {
    const job = await run({ command: ['sh', '-c', 'b() { b | b & }; b; sleep 30'], timeoutSeconds: 3 });
    expect(job).toMatchObject({ state: 'timed-out', reason: 'max-duration' });
    expect(text(job)).toMatch(/can't fork|Resource temporarily unavailable|fork/i);
  });

  it('exhausting memory is an OOM kill, reported as such', async () => {
    const job = await run({ command: ['sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done'], memoryMiB: 32 });
    expect(job).toMatchObject({ state: 'failed', reason: 'oom-killed', oomKilled: true });
    expect(job.detail).toMatch(/out of memory/);
  });

  it('filling its scratch disk stops at the cap', async () => {
    const job = await run({ command: ['dd', 'if=/dev/zero', 'of=/scratch/fill', 'bs=1M', 'count=64'], diskMiB: 8 });
    expect(job.state).toBe('failed');
    expect(text(job)).toMatch(/No space left on device/);
    expect(text(job)).toMatch(/^8\+0 records out/m);
  });

  it('flooding its log keeps the cap and says how much was dropped', async () => {
    const job = await run({ command: ['sh', '-c', 'yes flood-line | head -c 8000000; echo done'] });
    expect(job).toMatchObject({ state: 'succeeded' });
    const logs = h.runner.logs(job.id);
    expect(job.logDroppedBytes).toBeGreaterThan(0);
    expect(logs.text.length).toBeLessThanOrEqual(256 * 1024 + 200);
    expect(logs.text.endsWith(droppedMarker(job.logDroppedBytes))).toBe(true);
  });

  it('cannot reach a host service on 0.0.0.0 or the agent API, on any host address', async () => {
    const before = accepted;
    const addresses = hostAddresses();
    const job = await run({ command: ['sh', '-c', addresses.map((a) => `hostile connect ${a} ${port}`).join('; ')] });
    expect(text(job)).not.toContain('ESCAPED');
    expect(text(job).match(/BLOCKED/g)?.length).toBe(addresses.length);
    expect(accepted).toBe(before);
  });

  it('cannot reach the Docker socket', async () => {
    await probe('hostile', 'unix', '/var/run/docker.sock');
    await probe('hostile', 'unix', '/run/docker.sock');
  });

  it('cannot read another job\'s files', async () => {
    const a = await h.runner.submit({ image, command: ['sh', '-c', 'echo TOPSECRET-A > /scratch/secret; sleep 30'], timeoutSeconds: 20 });
    while (h.runner.get(a.id)!.state !== 'running') await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    const b = await run({ command: ['sh', '-c', 'cat /scratch/secret; cat /proc/*/root/scratch/secret; ls /proc; grep -r TOPSECRET /input /scratch /tmp; echo end'] });
    await h.runner.cancel(a.id);
    await h.runner.wait(a.id);
    expect(text(b)).not.toContain('TOPSECRET-A');
    // Its own PID namespace: only its own processes.
    expect(text(b)).toContain('end');
  });

  it('has no network with network none', async () => {
    const job = await run({ command: ['sh', '-c', 'hostile connect 1.1.1.1 53; hostile connect 8.8.8.8 443; cat /proc/net/dev'] });
    expect(text(job)).not.toContain('ESCAPED');
    expect(text(job)).toMatch(/BLOCKED connect: Network is unreachable/);
    expect(text(job)).not.toMatch(/eth0/);
  });

  it('cannot outlive its maximum duration', async () => {
    const job = await run({ command: ['sleep', '60'], timeoutSeconds: 1 });
    expect(job).toMatchObject({ state: 'timed-out', reason: 'max-duration' });
    expect(job.endedAt! - job.startedAt!).toBeLessThan(4000);
  });

  it('ignoring SIGTERM gets SIGKILL after the grace period', async () => {
    const job = await h.runner.submit({ image, command: ['sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 1; done'], timeoutSeconds: 20 });
    while (!h.runner.logs(job.id).text.includes('ready')) await new Promise((r) => setTimeout(r, 25));
    const t = Date.now();
    await h.runner.cancel(job.id);
    const done = await h.runner.wait(job.id);
    const took = Date.now() - t;
    expect(done).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5000);
    const left = await h.docker.listContainers({ all: true, filters: { label: [`io.offshift.job=${job.id}`] } });
    expect(left).toEqual([]);
  });
});
