/**
 * A real registry for tests: Debian's docker-registry (CNCF Distribution) on 127.0.0.1, with
 * filesystem storage, as an origin or as a pull-through mirror of another. Every request it
 * serves is read back from its log, so a test can count the blob bytes a pull really fetched.
 * The Docker engine pulls from 127.0.0.0/8 over plain HTTP by default: no TLS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { makeTempDir } from './temp-home.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
const SETPRIV = '/usr/bin/setpriv';

export interface ServedRequest {
  method: string;
  /** The path and query asked for, e.g. `/v2/team/app/blobs/sha256:…`. */
  uri: string;
  /** Response body bytes written. */
  bytes: number;
  status: number;
}

export interface Registry {
  /** `127.0.0.1:PORT`, for image references. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  storageDir: string;
  /** Bytes of blob bodies (`GET /v2/<repo>/blobs/…`) served so far, of one repository or all. */
  servedBlobBytes(repoFilter?: string): number;
  requests(): ServedRequest[];
  /** SIGTERM, and waits for the process to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same storage (after stop(), or in place). */
  restart(): Promise<void>;
  /** stop(), then deletes the storage folder when this helper made it. */
  remove(): Promise<void>;
}

export interface RegistryOptions {
  /** Upstream URL (e.g. `http://127.0.0.1:5001`): runs as a pull-through cache of it. */
  proxyOf?: string;
  /** Where blobs and manifests live (default: a new temp folder). */
  storageDir?: string;
}

/** Registries still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export function registryAvailable(): string | null {
  return fs.existsSync(REGISTRY_BINARY) ? null : 'docker-registry is not installed (apt-get install docker-registry)';
}

export async function startRegistry(options: RegistryOptions = {}): Promise<Registry> {
  const configDir = makeTempDir('offshift-registry-config-');
  const storageDir = options.storageDir ?? makeTempDir('offshift-registry-data-');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const configPath = path.join(configDir, 'config.yml');
  fs.writeFileSync(configPath, configYaml(host, storageDir, options.proxyOf));

  const served: ServedRequest[] = [];
  const logTail: string[] = [];
  let child: ChildProcess | null = null;

  const launch = async (): Promise<void> => {
    const proc = spawn(...command(configPath), { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    readline.createInterface({ input: proc.stderr! }).on('line', (line) => {
      logTail.push(line);
      if (logTail.length > 40) logTail.shift();
      const request = parseLogLine(line);
      if (request) served.push(request);
    });
    await waitUntilServing(url, proc, () => logTail.join('\n'));
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    host,
    url,
    storageDir,
    servedBlobBytes: (repoFilter) =>
      served.filter((r) => r.method === 'GET' && isBlobPath(r.uri, repoFilter) && (r.status === 200 || r.status === 206)).reduce((sum, r) => sum + r.bytes, 0),
    requests: () => [...served],
    stop: async () => {
      await stop();
      fs.rmSync(configDir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      fs.mkdirSync(configDir, { recursive: true });
      fs.writeFileSync(configPath, configYaml(host, storageDir, options.proxyOf));
      await launch();
    },
    remove: async () => {
      await stop();
      fs.rmSync(configDir, { recursive: true, force: true });
      if (!options.storageDir) fs.rmSync(storageDir, { recursive: true, force: true });
    },
  };
}

/** Under setpriv --pdeathsig, the registry dies with this process even when it is SIGKILLed (a worker that timed out), which no 'exit' hook sees. */
function command(configPath: string): [string, string[]] {
  const serve = [REGISTRY_BINARY, 'serve', configPath];
  return fs.existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', ...serve]] : [serve[0]!, serve.slice(1)];
}

function configYaml(host: string, storageDir: string, proxyOf: string | undefined): string {
  // JSON is YAML, and quoting every value spares escaping paths and URLs by hand. Logs as JSON
  // on stderr: one `response completed` line per request, with its method, URI, status and size.
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', formatter: 'json', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: storageDir }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
    http: { addr: host, secret: 'offshift-test-registry' },
  };
  if (proxyOf) config.proxy = { remoteurl: proxyOf };
  return JSON.stringify(config, null, 2) + '\n';
}

function parseLogLine(line: string): ServedRequest | null {
  if (!line.startsWith('{')) return null;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  // Distribution logs `response completed`, or `response completed with error` for a 4xx/5xx.
  if (typeof entry.msg !== 'string' || !entry.msg.startsWith('response completed')) return null;
  const method = entry['http.request.method'];
  const uri = entry['http.request.uri'];
  if (typeof method !== 'string' || typeof uri !== 'string') return null;
  return { method, uri, bytes: Number(entry['http.response.written'] ?? 0), status: Number(entry['http.response.status'] ?? 0) };
}

function isBlobPath(uri: string, repo: string | undefined): boolean {
  const m = /^\/v2\/(.+)\/blobs\/sha256:[0-9a-f]{64}(\?.*)?$/.exec(uri);
  return m !== null && (repo === undefined || m[1] === repo);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntilServing(url: string, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`docker-registry exited (${proc.exitCode ?? proc.signalCode}) before serving ${url}:\n${log()}`);
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {}
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`docker-registry did not serve ${url}/v2/ within 15 s:\n${log()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
