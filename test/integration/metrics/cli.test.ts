/**
 * The metrics commands through the real CLI (node dist/runtime/cli.js), against real headless
 * agents (market off, fake 2-GPU nvidia-smi) and Debian's Prometheus:
 * - `offshift metrics config` with no agent running saves to the settings file;
 * - with an agent running, --listen opens the listener at once, makes the 0600 token file and
 *   prints a scrape config; --json gives the view; --off closes it;
 * - the node_exporter textfile the agent writes: whole, 0644, accepted by promtool; moved, the
 *   old one is removed; --off removes it (node_exporter must not go on exporting a stale state);
 * - `offshift fleet status --prometheus URL`: the table and --json for two scraped agents, a
 *   machine whose listener went off shown as down, and the errors for a missing or dead URL.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSettingsStore } from '../../../runtime/settings/store.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { CLI, ROOT, startHeadlessAgent, type HeadlessAgent } from '../../helpers/headless-agent.js';
import { freePort, hasPrometheus, startPrometheus, type RunningPrometheus } from '../../helpers/prometheus.js';
import { makeTempDir } from '../../helpers/temp-home.js';
import { until } from '../../helpers/until.js';

if (!hasPrometheus) console.warn('[metrics cli] skipped: prometheus and promtool are missing (Debian: apt-get install prometheus; test/setup/prepare-machine.sh does it).');
if (!fs.existsSync(CLI)) console.warn('[metrics cli] skipped: dist/runtime/cli.js is missing: run npm run build:node first.');

function cli(env: NodeJS.ProcessEnv, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const scrape = (address: string, token: string) => fetch(`http://${address}/metrics`, { headers: { authorization: `Bearer ${token}` } });

describe.skipIf(!hasPrometheus || !fs.existsSync(CLI))('offshift metrics config and fleet status through the CLI', () => {
  let fake: FakeGpuTools;
  const homes: string[] = [];
  const agents: HeadlessAgent[] = [];
  let prom: RunningPrometheus | null = null;
  /** Agent A: started with metrics off and a textfile; the CLI turns its listener on and off. */
  let envA: NodeJS.ProcessEnv;
  let homeA: string;
  let textfile: string;
  let addressA: string;
  /** Agent B: its listener on from the start. */
  let addressB: string;
  let tokenB: string;

  const envFor = (home: string) => fake.env({ PATH: process.env.PATH, HOME: home, OFFSHIFT_HOME: home, OFFSHIFT_MARKET: 'off' });

  beforeAll(async () => {
    fake = makeFakeGpuTools({ nvidiaXml: 'nvidia-smi-q-x_2x-rtx2080ti_driver410.73.xml' });
    homeA = makeTempDir('offshift-metrics-cli-a-');
    const homeB = makeTempDir('offshift-metrics-cli-b-');
    homes.push(homeA, homeB);
    const textDir = makeTempDir('offshift-metrics-textfile-');
    homes.push(textDir);
    textfile = path.join(textDir, 'offshift.prom');
    openSettingsStore(homeA).update('metrics', { textfile });
    addressA = `127.0.0.1:${await freePort()}`;
    addressB = `127.0.0.1:${await freePort()}`;
    openSettingsStore(homeB).update('metrics', { listen: addressB });
    envA = envFor(homeA);
    agents.push(...(await Promise.all([startHeadlessAgent(envA), startHeadlessAgent(envFor(homeB))])));
    tokenB = fs.readFileSync(path.join(homeB, 'metrics-token'), 'utf8').trim();
  }, 90_000);

  afterAll(async () => {
    await prom?.stop();
    await Promise.all(agents.map((a) => a.stop()));
    fake?.cleanup();
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
  });

  it('with no agent running, saves --listen to the settings file and makes no token yet; refuses a bad address', () => {
    const home = makeTempDir('offshift-metrics-cli-file-');
    homes.push(home);
    const env = { PATH: process.env.PATH, HOME: home, OFFSHIFT_HOME: home, OFFSHIFT_MARKET: 'off' };
    const shown = cli(env, 'metrics', 'config');
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/^Listener: +off$/m);
    expect(shown.stdout).toContain('Turn the listener on with --listen HOST:PORT');
    const set = cli(env, 'metrics', 'config', '--listen', '127.0.0.1:9464');
    expect(set.stderr).toBe('');
    expect(set.status).toBe(0);
    expect(set.stdout).toMatch(/^Listener: +127\.0\.0\.1:9464 \(when the agent runs\)$/m);
    expect(set.stdout).toContain('no agent running: saved to the settings file');
    expect(openSettingsStore(home).section('metrics').patch).toMatchObject({ listen: '127.0.0.1:9464' });
    expect(fs.existsSync(path.join(home, 'metrics-token'))).toBe(false);
    const bad = cli(env, 'metrics', 'config', '--listen', 'not-an-address');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/HOST:PORT/);
    const badDcgm = cli(env, 'metrics', 'config', '--dcgm-compat', 'maybe');
    expect(badDcgm.status).not.toBe(0);
    expect(badDcgm.stderr).toMatch(/--dcgm-compat is on or off/);
  });

  it('writes the textfile at start: whole, 0644, accepted by promtool', async () => {
    await until('the textfile', () => fs.existsSync(textfile), 10_000);
    expect(fs.statSync(textfile).mode & 0o777).toBe(0o644 & ~process.umask());
    const text = fs.readFileSync(textfile, 'utf8');
    expect(text).toMatch(/^offshift_agent_info\{version="[^"]+",platform="linux",hostname="[^"]+"\} 1$/m);
    expect(text).toMatch(/^offshift_gpus 2$/m);
    expect(text.endsWith('\n')).toBe(true);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
    // No temp file beside it.
    expect(fs.readdirSync(path.dirname(textfile))).toEqual(['offshift.prom']);
  });

  it('--listen tells the running agent: the listener opens at once, the token file is 0600, a scrape config is printed', async () => {
    const tokenFile = path.join(homeA, 'metrics-token');
    expect(fs.existsSync(tokenFile)).toBe(false);
    const r = cli(envA, 'metrics', 'config', '--listen', addressA);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Listener: +http://${addressA.replace(/\./g, '\\.')}/metrics$`, 'm'));
    expect(r.stdout).toMatch(/told the running agent on port \d+/);
    expect(r.stdout).toContain(`Token file:   ${tokenFile}`);
    expect(r.stdout).toMatch(new RegExp(`^Textfile: +${textfile.replace(/[.]/g, '\\.')}$`, 'm'));
    expect(r.stdout).toContain('Prometheus scrape config (prometheus.yml):');
    expect(r.stdout).toContain('scrape_configs:\n  - job_name: offshift\n');
    expect(r.stdout).toContain(`credentials_file: ${tokenFile}`);
    expect(r.stdout).toContain(`- targets: ['${addressA}']`);
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = fs.readFileSync(tokenFile, 'utf8').trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const res = await scrape(addressA, token);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^offshift_gpus 2$/m);
    expect((await fetch(`http://${addressA}/metrics`)).status).toBe(401);
  });

  it('a scrape runs no nvidia-smi -q -x (the inventory is read at most once a minute) and says the market is off', async () => {
    const token = fs.readFileSync(path.join(homeA, 'metrics-token'), 'utf8').trim();
    const inventories = () => fake.calls().filter((c) => c.tool === 'nvidia-smi' && c.args.join(' ') === '-q -x').length;
    const before = inventories();
    let text = '';
    // Over a second apart: the GPU service's own inventory cache (1 s) runs out between them.
    for (let i = 0; i < 5; i++) {
      text = await (await scrape(addressA, token)).text();
      await new Promise((r) => setTimeout(r, 1100));
    }
    // The metrics' minute-long cache may run out once during the run, no more.
    expect(inventories() - before).toBeLessThanOrEqual(1);
    expect(text).toMatch(/^offshift_market_connection_state\{state="off",network="off"\} 1$/m);
    expect(text).toMatch(/^offshift_market_connected 0$/m);
  }, 20_000);

  it('--json gives the view the agent serves', () => {
    const r = cli(envA, 'metrics', 'config', '--json');
    expect(r.status).toBe(0);
    const view = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(view).toMatchObject({
      effective: { listen: addressA, textfile, dcgmCompat: false },
      locked: [],
      url: `http://${addressA}/metrics`,
      tokenFile: path.join(homeA, 'metrics-token'),
      problem: null,
    });
    expect(view.scrapeConfig).toContain(`- targets: ['${addressA}']`);
  });

  it('--textfile in a folder that does not exist is refused with the reason, and the agent keeps serving', async () => {
    const r = cli(envA, 'metrics', 'config', '--textfile', path.join(homeA, 'no-such-folder', 'x.prom'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/could not be written.*ENOENT/);
    // Put it back.
    const back = cli(envA, 'metrics', 'config', '--textfile', textfile, '--json');
    expect(back.status).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ problem: null, effective: { textfile } });
    // Moved to another file: the old one goes, so node_exporter never reads two.
    const moved = path.join(path.dirname(textfile), 'offshift-2.prom');
    expect(cli(envA, 'metrics', 'config', '--textfile', moved).status).toBe(0);
    await until('the moved textfile', () => fs.existsSync(moved), 10_000);
    expect(fs.readdirSync(path.dirname(textfile))).toEqual(['offshift-2.prom']);
    expect(cli(envA, 'metrics', 'config', '--textfile', textfile).status).toBe(0);
    await until('the textfile back', () => fs.existsSync(textfile) && !fs.existsSync(moved), 10_000);
  });

  it('fleet status --prometheus lists both scraped agents, as a table and as JSON', async () => {
    prom = await startPrometheus([
      { address: addressA, tokenFile: path.join(homeA, 'metrics-token') },
      { address: addressB, tokenFile: path.join(homes[1]!, 'metrics-token') },
    ]);
    await until('both agents scraped', async () => (await prom!.query('up == 1 and on(instance) offshift_gpus')).length === 2, 30_000);
    const t = cli({ PATH: process.env.PATH }, 'fleet', 'status', '--prometheus', prom.url);
    expect(t.stderr).toBe('');
    expect(t.status).toBe(0);
    const lines = t.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Machine +Instance +State +GPUs +Earned today +Policy +Last scrape$/);
    for (const address of [addressA, addressB]) {
      const row = lines.find((l) => l.includes(` ${address} `));
      expect(row, `a row for ${address} in:\n${t.stdout}`).toBeDefined();
      // Up, its state and reason, 2 GPUs, no wallet (no earnings), no policy, a recent scrape.
      expect(row).toMatch(/ [a-z-]+ \([a-z-]*\) +2 +- +none +\d{4}-\d\d-\d\dT[\d:.]+Z$/);
      expect(row).not.toContain('down');
    }
    const j = cli({ PATH: process.env.PATH }, 'fleet', 'status', '--prometheus', prom.url + '/', '--json');
    expect(j.status).toBe(0);
    const { machines } = JSON.parse(j.stdout) as { machines: Array<Record<string, unknown>> };
    expect(machines.map((m) => m.instance).sort()).toEqual([addressA, addressB].sort());
    for (const m of machines) {
      expect(m).toMatchObject({ up: true, gpus: 2, earningsTodayTokens: null, policySource: 'none' });
      expect(Date.now() - Date.parse(m.lastScrape as string)).toBeLessThan(30_000);
    }
    // The scrape agent B served is what fleet status says of it.
    const text = await (await scrape(addressB, tokenB)).text();
    const state = /^offshift_state\{state="([^"]+)",reason="([^"]*)"\} 1$/m.exec(text);
    expect(machines.find((m) => m.instance === addressB)).toMatchObject({ state: state![1], reason: state![2] });
  }, 60_000);

  it('--off closes the listener (fleet status shows the machine down) and removes the textfile', async () => {
    expect(fs.existsSync(textfile)).toBe(true);
    const r = cli(envA, 'metrics', 'config', '--off');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Listener: +off$/m);
    expect(r.stdout).toMatch(/^Textfile: +off$/m);
    expect(r.stdout).not.toContain('scrape_configs:');
    await expect(fetch(`http://${addressA}/metrics`)).rejects.toThrow();
    // Turned off, the textfile goes: node_exporter stops exporting a state nobody updates.
    expect(fs.existsSync(textfile)).toBe(false);
    expect(fs.readdirSync(path.dirname(textfile))).toEqual([]);
    const json = JSON.parse(cli(envA, 'metrics', 'config', '--json').stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ effective: { listen: null, textfile: null }, url: null, scrapeConfig: null });
    // The token stays for the next time it is turned on.
    expect(fs.existsSync(path.join(homeA, 'metrics-token'))).toBe(true);

    await until('agent A down in Prometheus', async () => (await prom!.query(`up{instance="${addressA}"} == 0`)).length === 1, 15_000, { intervalMs: 250 });
    const t = cli({ PATH: process.env.PATH }, 'fleet', 'status', '--prometheus', prom!.url);
    expect(t.status).toBe(0);
    expect(t.stdout.split('\n').find((l) => l.includes(` ${addressA} `))).toMatch(/ down +- +- +- +\d{4}-/);
    expect(t.stdout.split('\n').find((l) => l.includes(` ${addressB} `))).not.toContain('down');
  }, 30_000);

  it('fleet status without --prometheus, or with one that does not answer, says what to do', async () => {
    const missing = cli({ PATH: process.env.PATH }, 'fleet', 'status');
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('--prometheus http://');
    const dead = `http://127.0.0.1:${await freePort()}`;
    const r = cli({ PATH: process.env.PATH }, 'fleet', 'status', '--prometheus', dead);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`Prometheus at ${dead} did not answer`);
  });
});
