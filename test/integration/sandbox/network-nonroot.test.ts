/**
 * An allow-list job of an agent that is neither root nor CAP_NET_ADMIN (the desktop app): the
 * runner runs in its own process as uid 65534 in the docker group with no capability
 * (test/integration/jobs/nonroot-child.ts under setpriv), so its firewall rule goes through the
 * Docker engine (iptables-engine.ts). The job is contained as under root (network.test.ts): a
 * host service on 0.0.0.0 is out of reach on every host address and on the gateway, while the
 * proxy's port on the gateway answers; when the runner closes, its rule is gone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../../runtime/jobs/schema.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { skipReason as dockerSkip } from '../jobs/harness.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CHILD = path.join(ROOT, 'test/integration/jobs/nonroot-child.ts');
const SOCKET = '/var/run/docker.sock';
const UID = 65534;

function whyNot(): string | null {
  if (dockerSkip) return dockerSkip;
  if (process.getuid?.() !== 0) return 'the test must start as root to drop to another user with setpriv';
  if (spawnSync('setpriv', ['--version']).error) return 'setpriv is not installed (apt-get install util-linux)';
  if (spawnSync('iptables', ['-w', '5', '-L', 'INPUT', '-n']).status !== 0) return 'iptables is missing or not usable here, even as root';
  try {
    if ((fs.statSync(SOCKET).mode & 0o060) !== 0o060) return `${SOCKET} is not readable and writable by its group`;
  } catch {
    return `${SOCKET} is not there (a remote DOCKER_HOST is not covered)`;
  }
  return null;
}
const skip = whyNot();
if (skip) console.warn(`[network-nonroot] skipped: ${skip}`);

let image = '';
let server: net.Server;
let port = 0;
let accepted = 0;
let home = '';

function hostAddresses(): string[] {
  const out = new Set<string>(['172.17.0.1']);
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.add(a.address);
  return [...out];
}

/** The runner as uid 65534 in the socket's group with no capabilities; its RESULT line. */
function runAsDesktopUser(spec: Record<string, unknown>): { job: Job; uid: number } {
  const gid = fs.statSync(SOCKET).gid;
  const r = spawnSync(
    'setpriv',
    [`--reuid=${UID}`, `--regid=${UID}`, `--groups=${gid}`, '--inh-caps=-all', '--bounding-set=-all', process.execPath, '--import', 'tsx', CHILD, home, 'run', JSON.stringify(spec)],
    { cwd: ROOT, env: { ...process.env, HOME: home }, encoding: 'utf8', timeout: 90_000 },
  );
  const m = /RESULT (.+)\n/.exec(r.stdout);
  if (!m) throw new Error(`the non-root runner exited ${r.status} without a result: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(m[1]!) as { job: Job; uid: number };
}

describe.skipIf(skip !== null)('an allow-list job of an agent without root or CAP_NET_ADMIN', () => {
  beforeAll(async () => {
    image = sandboxTestImage();
    execFileSync(process.execPath, [path.join(ROOT, 'resources/output-keeper/build.mjs')], { stdio: 'pipe' });
    home = makeTempDir('offshift-netnonroot-');
    fs.chownSync(home, UID, UID);
    server = net.createServer((s) => {
      accepted++;
      s.end('host secret\n');
    });
    await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => {
    server?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('cannot reach a host service on any host address nor the gateway; the proxy answers; the rule goes when the runner closes', () => {
    const addresses = hostAddresses();
    const target = `${addresses[0]}:${port}`;
    const { job, uid } = runAsDesktopUser({
      image,
      timeoutSeconds: 30,
      network: { allow: [target] },
      command: [
        'sh',
        '-c',
        'echo "PROXY=$HTTPS_PROXY"; p=${HTTPS_PROXY#http://}; gw=${p%:*}; ' +
          [...addresses, '$gw'].map((a) => `hostile connect ${a} ${port}`).join('; ') +
          `; printf 'CONNECT ${target} HTTP/1.1\\r\\nHost: ${target}\\r\\n\\r\\n' | nc -w 3 $gw \${p##*:}; echo; true`,
      ],
    });
    expect(uid).toBe(UID);
    expect(job.state).toBe('succeeded');
    const log = fs.readFileSync(path.join(home, 'jobs', job.id, 'log.txt'), 'utf8');
    expect(log).not.toContain('ESCAPED');
    expect(log.match(/BLOCKED/g)?.length).toBe(addresses.length + 1);
    expect(accepted).toBe(0);
    // The proxy's port is open to the job: it answers, refusing a private destination (no policy exception here).
    expect(log).toMatch(/private, loopback, link-local or reserved address/);
    // The runner closed with no job on the network: its rule (the proxy's address and port) is gone.
    const [, gateway, proxyPort] = /PROXY=http:\/\/([\d.]+):(\d+)/.exec(log)!;
    const rules = execFileSync('iptables', ['-w', '5', '-S'], { encoding: 'utf8' });
    expect(rules).not.toContain(`-d ${gateway}/32 -p tcp -m tcp --dport ${proxyPort} -j ACCEPT`);
  }, 120_000);
});
