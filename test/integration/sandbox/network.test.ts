/**
 * Allow-list jobs on the real engine: the egress network, the agent's CONNECT proxy and the
 * firewall rule. Nothing outside this machine is reachable here, so the "allowed destination"
 * is this host's own address, which the admin policy (egressAllowedPrivate) lets through.
 */
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../runtime/jobs/schema.js';
import { firewallUnavailable } from '../../../runtime/sandbox/egress/firewall.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { makeHarness, skipReason, type Harness } from '../jobs/harness.js';

let image: string;
let server: net.Server;
let port = 0;
let accepted = 0;
let hostIp = '';
let noFirewall: string | null = null;
const harnesses: Harness[] = [];

function hostAddresses(): string[] {
  const out = new Set<string>(['172.17.0.1']);
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.add(a.address);
  return [...out];
}

/** A shell line that sends CONNECT to the job's proxy (from $HTTPS_PROXY) with busybox nc. */
const connectVia = (target: string) =>
  `p=\${HTTPS_PROXY#http://}; printf 'CONNECT ${target} HTTP/1.1\\r\\nHost: ${target}\\r\\n\\r\\n' | nc -w 3 \${p%:*} \${p##*:}; echo`;

describe.skipIf(skipReason !== null)('allow-list jobs: egress proxy and firewall', () => {
  let h: Harness;
  beforeAll(async () => {
    image = sandboxTestImage();
    noFirewall = await firewallUnavailable();
    if (noFirewall) console.warn(`[network.test] networked jobs are refused here: ${noFirewall}`);
    server = net.createServer((s) => {
      accepted++;
      s.end('host secret\n');
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    port = (server.address() as net.AddressInfo).port;
    hostIp = hostAddresses().find((a) => a !== '172.17.0.1') ?? '172.17.0.1';
    h = makeHarness({ egressAllowedPrivate: [hostIp] });
    harnesses.push(h);
  });
  afterAll(async () => {
    server?.close();
    for (const x of harnesses) await x.cleanup();
  });

  const run = async (harness: Harness, spec: Record<string, unknown>): Promise<Job> => harness.runner.wait((await harness.runner.submit({ image, timeoutSeconds: 30, ...spec })).id);
  const text = (harness: Harness, job: Job) => harness.runner.logs(job.id).text;

  it('reaches an allowed destination through the proxy, and nothing else', async (ctx) => {
    if (noFirewall) ctx.skip();
    const before = accepted;
    const job = await run(h, {
      network: { allow: [`${hostIp}:${port}`] },
      command: ['sh', '-c', [connectVia(`${hostIp}:${port}`), connectVia(`${hostIp}:${port + 1}`), connectVia(`example.com:443`)].join('; ')],
    });
    expect(job.state).toBe('succeeded');
    const out = text(h, job);
    expect(out).toContain('HTTP/1.1 200 Connection established');
    expect(out).toContain('host secret');
    expect(out).toMatch(new RegExp(`403 Forbidden[\\s\\S]*${hostIp}:${port + 1} is not on this job's allow-list`));
    expect(out).toMatch(/example.com:443 is not on this job's allow-list/);
    expect(accepted).toBe(before + 1);
  });

  it('cannot reach host services directly, on any host address, nor the proxy\'s neighbours', async (ctx) => {
    if (noFirewall) ctx.skip();
    const before = accepted;
    const addresses = hostAddresses();
    const job = await run(h, {
      network: { allow: [`${hostIp}:${port}`] },
      command: ['sh', '-c', 'gw=${HTTPS_PROXY#http://}; gw=${gw%:*}; ' + [...addresses, '$gw'].map((a) => `hostile connect ${a} ${port}`).join('; ') + '; hostile connect 1.1.1.1 443; true'],
    });
    expect(text(h, job)).not.toContain('ESCAPED');
    expect(text(h, job).match(/BLOCKED/g)?.length).toBe(addresses.length + 2);
    expect(accepted).toBe(before);
  });

  it('refuses private, loopback and link-local destinations even when listed (without a policy exception)', async (ctx) => {
    if (noFirewall) ctx.skip();
    const strict = makeHarness();
    harnesses.push(strict);
    const before = accepted;
    const job = await run(strict, {
      network: { allow: [`127.0.0.1:${port}`, '169.254.169.254:80', `${hostIp}:${port}`, 'localhost:80'] },
      command: ['sh', '-c', [connectVia(`127.0.0.1:${port}`), connectVia('169.254.169.254:80'), connectVia(`${hostIp}:${port}`), connectVia('localhost:80')].join('; ')],
    });
    const out = text(strict, job);
    expect(out).not.toContain('200 Connection established');
    expect(out.match(/private, loopback, link-local or reserved address/g)?.length).toBe(4);
    expect(accepted).toBe(before);
  });

  it('a job re-adopted after the agent restarts keeps its network: the proxy takes its former port again', async (ctx) => {
    if (noFirewall) ctx.skip();
    const x = makeHarness({ egressAllowedPrivate: [hostIp] });
    harnesses.push(x);
    const job = await x.runner.submit({ image, timeoutSeconds: 30, network: { allow: [`${hostIp}:${port}`] }, command: ['sh', '-c', `sleep 4; ${connectVia(`${hostIp}:${port}`)}`] });
    const until = Date.now() + 20_000;
    while (x.runner.get(job.id)!.state !== 'running' && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const before = accepted;
    // The agent stops (its proxy with it) while the job runs; a new one re-adopts the job.
    await x.runner.close();
    const again = x.reopen();
    expect((await again.recover()).readopted).toEqual([job.id]);
    const done = await again.wait(job.id);
    expect(done.state).toBe('succeeded');
    expect(again.logs(job.id).text).toContain('HTTP/1.1 200 Connection established');
    expect(again.logs(job.id).text).toContain('host secret');
    expect(accepted).toBe(before + 1);
  });

  it('a network none job next to them still has no network', async () => {
    const job = await run(h, { command: ['sh', '-c', `hostile connect ${hostIp} ${port}; cat /proc/net/dev`] });
    expect(text(h, job)).toMatch(/BLOCKED connect: Network is unreachable/);
    expect(text(h, job)).not.toMatch(/eth0/);
  });

  it('removes its firewall rule and network when the runner closes with no job left', async (ctx) => {
    if (noFirewall) ctx.skip();
    const x = makeHarness();
    await run(x, { network: { allow: ['example.com'] }, command: ['true'] });
    const network = `offshift-egress-${x.runner.agentInstance}`;
    expect(execFileSync('docker', ['network', 'ls', '--format', '{{.Name}}'], { encoding: 'utf8' })).toContain(network);
    const chainsBefore = execFileSync('iptables', ['-S'], { encoding: 'utf8' });
    expect(chainsBefore).toMatch(/OFFSHIFT-EG-/);
    await x.cleanup();
    expect(execFileSync('docker', ['network', 'ls', '--format', '{{.Name}}'], { encoding: 'utf8' })).not.toContain(network);
  });
});
