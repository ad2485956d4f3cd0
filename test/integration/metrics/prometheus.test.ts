/**
 * Metrics end to end: three real headless agents (market off, fake nvidia-smi with two GPUs each,
 * ledgers seeded with checked vouchers), each serving /metrics on its own port with its own
 * token, scraped every second by Debian's Prometheus through file-based discovery. promtool checks
 * each agent's output; PromQL sees the ledgers' sum, a pause within a scrape, and data for every
 * query of the shipped Grafana dashboard. The listener refuses a missing or wrong token, and an
 * agent with the default settings listens on nothing but its own 127.0.0.1 API port.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../runtime/log.js';
import { fleetStatus } from '../../../runtime/metrics/fleet.js';
import { openSettingsStore } from '../../../runtime/settings/store.js';
import { openMoneyParts } from '../../../runtime/wallet/money.js';
import { counted } from '../../helpers/checked-voucher.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { CLI, ROOT, startHeadlessAgent, type HeadlessAgent } from '../../helpers/headless-agent.js';
import { freePort, hasPrometheus, startPrometheus, type RunningPrometheus } from '../../helpers/prometheus.js';
import { makeTempDir } from '../../helpers/temp-home.js';
import { until } from '../../helpers/until.js';

if (!hasPrometheus) console.warn('[metrics] skipped: prometheus and promtool are missing (Debian: apt-get install prometheus; test/setup/prepare-machine.sh does it).');
if (!fs.existsSync(CLI)) console.warn('[metrics] skipped: dist/runtime/cli.js is missing: run npm run build:node first.');

const ctx = { chainId: 31337, escrow: '0x5FbDB2315678afecb367f032d93F642f64180aa3' };
const voucher = (n: number, amount: bigint) => ({
  voucher: {
    buyer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    provider: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    jobId: '0x' + n.toString(16).padStart(64, '0'),
    cumulativeAmount: amount.toString(),
    expiry: Math.floor(Date.now() / 1000) + 3600,
  },
  signature: '0x' + n.toString(16).padStart(130, '0'),
});
/** Base units (18 decimals): 1.5, 2.25 and 0.125 tokens. */
const EARNED = [1_500_000_000_000_000_000n, 2_250_000_000_000_000_000n, 125_000_000_000_000_000n];

interface Machine {
  home: string;
  env: NodeJS.ProcessEnv;
  agent: HeadlessAgent;
  address: string;
  tokenFile: string;
}

async function seed(home: string, i: number): Promise<void> {
  const money = openMoneyParts({ home, log: silentLogger, scryptN: 1024 });
  await money.wallet.create('metrics-test-password');
  money.ledger.recordVoucher(counted(ctx, voucher(i + 1, EARNED[i]!)));
  money.db.close();
}

describe.skipIf(!hasPrometheus || !fs.existsSync(CLI))('Prometheus scrapes three real agents', () => {
  const machines: Machine[] = [];
  let fake: FakeGpuTools;
  let prom: RunningPrometheus;
  let plain: HeadlessAgent | null = null;

  beforeAll(async () => {
    fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' });
    for (let i = 0; i < 3; i++) {
      const home = makeTempDir(`offshift-metrics-${i}-`);
      await seed(home, i);
      const address = `127.0.0.1:${await freePort()}`;
      openSettingsStore(home).update('metrics', { listen: address, dcgmCompat: i === 0 });
      const env = fake.env({ PATH: process.env.PATH, HOME: home, OFFSHIFT_HOME: home, OFFSHIFT_MARKET: 'off', OFFSHIFT_KEYSTORE_SCRYPT_N: '1024' });
      machines.push({ home, env, agent: await startHeadlessAgent(env), address, tokenFile: path.join(home, 'metrics-token') });
    }
    prom = await startPrometheus(machines.map((m) => ({ address: m.address, tokenFile: m.tokenFile })));
    await until('all three agents scraped', async () => (await prom.query('up == 1')).length === 3, 30_000);
  }, 120_000);

  afterAll(async () => {
    await prom?.stop();
    await Promise.all([...machines.map((m) => m.agent.stop()), plain?.stop()]);
    fake?.cleanup();
  });

  const scrape = (m: Machine, token?: string) => fetch(`http://${m.address}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });

  it('serves each agent\'s metrics in a format promtool accepts, DCGM series where turned on', async () => {
    for (const [i, m] of machines.entries()) {
      const res = await scrape(m, fs.readFileSync(m.tokenFile, 'utf8').trim());
      expect(res.status).toBe(200);
      const text = await res.text();
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      // dcgm-exporter's label names (UUID, modelName, Hostname) are camelCase, and must stay so for
      // its dashboard: promtool's lint says so about them, and about nothing else.
      const lint = (check.stdout + check.stderr).split('\n').filter((l) => l !== '' && !/^DCGM_FI_DEV_\w+ label names should be written in 'snake_case' not 'camelCase'$/.test(l));
      expect(lint).toEqual([]);
      if (i > 0) expect(check.status).toBe(0);
      expect(text).toMatch(/^offshift_gpu_utilization_ratio\{gpu="0",uuid="GPU-[^"]+",model="[^"]+"\} [0-9.]+$/m);
      expect(text).not.toMatch(/job_?id=/i);
      if (i === 0) expect(text).toMatch(/^DCGM_FI_DEV_GPU_UTIL\{gpu="0",UUID="GPU-[^"]+",device="nvidia0",modelName="[^"]+",Hostname="[^"]+"\} \d+/m);
      else expect(text).not.toContain('DCGM_FI_DEV');
    }
  });

  it('refuses a scrape without the token or with a wrong one; the token file is 0600', async () => {
    for (const m of machines) {
      expect((await scrape(m)).status).toBe(401);
      expect((await scrape(m, 'not-the-token')).status).toBe(401);
      expect(fs.statSync(m.tokenFile).mode & 0o777).toBe(0o600);
    }
  });

  it('sums the three ledgers\' earnings through PromQL', async () => {
    const [sum] = await prom.query('sum(offshift_earnings_received_tokens)');
    expect(Number(sum!.value[1])).toBeCloseTo(3.875, 9);
    const perMachine = await prom.query('offshift_earnings_received_tokens');
    expect(perMachine.map((r) => Number(r.value[1])).sort()).toEqual([0.125, 1.5, 2.25]);
  });

  it('shows a paused agent as paused within a scrape or two', async () => {
    const m = machines[1]!;
    const out = execFileSync(process.execPath, [CLI, 'pause'], { cwd: ROOT, env: m.env, encoding: 'utf8' });
    expect(out).toMatch(/pause/i);
    const started = Date.now();
    const [paused] = await until('the pause in Prometheus', async () => {
      const r = await prom.query(`offshift_state{state="paused",instance="${m.address}"} == 1`);
      return r.length > 0 ? r : null;
    }, 10_000, { intervalMs: 200 });
    expect(paused!.metric.reason).toBe('snoozed');
    // 1 s scrapes: within about two of them.
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('has data for every query of the shipped Grafana dashboard, and fleet status lists every machine', async () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT, 'resources', 'grafana', 'offshift-fleet.json'), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    // rate() and increase() need two samples in their window.
    await new Promise((r) => setTimeout(r, 2500));
    const empty: string[] = [];
    for (const panel of dashboard.panels) for (const t of panel.targets) if ((await prom.query(t.expr)).length === 0) empty.push(`${panel.title}: ${t.expr}`);
    expect(empty).toEqual([]);

    const fleet = await fleetStatus(prom.url);
    expect(fleet.map((f) => f.instance).sort()).toEqual(machines.map((m) => m.address).sort());
    for (const f of fleet) expect(f).toMatchObject({ up: true, gpus: 2, policySource: 'none' });
    expect(fleet.find((f) => f.instance === machines[1]!.address)).toMatchObject({ state: 'paused', reason: 'snoozed' });
    expect(fleet.reduce((a, f) => a + (f.earningsTodayTokens ?? 0), 0)).toBeCloseTo(3.875, 9);
  });

  it('with the default settings an agent listens on nothing but its own API port on 127.0.0.1', async () => {
    const home = makeTempDir('offshift-metrics-plain-');
    plain = await startHeadlessAgent({ PATH: process.env.PATH, HOME: home, OFFSHIFT_HOME: home, OFFSHIFT_MARKET: 'off' });
    const pid = plain.child.pid!;
    const ss = execFileSync('ss', ['-Hltnp'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`pid=${pid},`));
    const locals = ss.map((l) => l.trim().split(/\s+/)[3]);
    expect(locals).toEqual([`127.0.0.1:${plain.port}`]);
    expect(fs.existsSync(path.join(home, 'metrics-token'))).toBe(false);
  });
});
