/**
 * A real Prometheus (Debian's package) on 127.0.0.1 for the metrics tests: a temp config and
 * storage, a 1 s scrape interval, targets found through a file (file_sd_configs) and scraped
 * with a bearer token read from a file, as a studio would set it up.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { makeTempDir } from './temp-home.js';

export const hasPrometheus = ['prometheus', 'promtool'].every((tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

export interface Target {
  address: string;
  tokenFile: string;
}

export interface RunningPrometheus {
  url: string;
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One scrape job per target (each agent has its own token), each found through its own file_sd file. */
export async function startPrometheus(targets: Target[]): Promise<RunningPrometheus> {
  const dir = makeTempDir('offshift-prom-');
  const jobs = targets.map((t, i) => {
    const sd = path.join(dir, `targets-${i}.json`);
    fs.writeFileSync(sd, JSON.stringify([{ targets: [t.address], labels: { machine: `m${i}` } }]));
    return [`  - job_name: offshift-${i}`, '    authorization:', '      type: Bearer', `      credentials_file: ${t.tokenFile}`, '    file_sd_configs:', `      - files: ['${sd}']`, '        refresh_interval: 1s'].join('\n');
  });
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(config, ['global:', '  scrape_interval: 1s', '  evaluation_interval: 1s', 'scrape_configs:', ...jobs, ''].join('\n'));
  const port = await freePort();
  const child: ChildProcess = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${stderr}`);
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (i > 150) throw new Error(`prometheus was not ready within 30 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async query(expr) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; error?: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
      return body.data.result;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
