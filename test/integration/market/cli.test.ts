import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../runtime/cli.js';
import { amountForSeconds } from '../../../protocol/index.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { TestProvider } from './peer.js';

/** `offshift market serve` as a real process; `market jobs|providers` and `buyer submit` against it. */
const chainId = 31337;
const escrow = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512';
const IMAGE = 'sha256:' + 'cd'.repeat(32);

describe('offshift market / buyer', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let server: ChildProcess;
  let url: string;
  let keyFile: string;
  const buyer = Wallet.createRandom();
  let env: NodeJS.ProcessEnv;

  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    temp = makeTempHome('offshift-market-cli-');
    env = { ...process.env, OFFSHIFT_HOME: temp.home };
    keyFile = path.join(temp.home, 'buyer.key');
    fs.writeFileSync(keyFile, buyer.privateKey + '\n', { mode: 0o600 });
    server = spawn(path.resolve('node_modules/.bin/tsx'), ['runtime/cli.ts', 'market', 'serve', '--port', '0', '--db', path.join(temp.home, 'market.db'), '--chain-id', String(chainId), '--escrow', escrow], {
      env: { ...env, OFFSHIFT_CLI_MAIN: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const first = await new Promise<string>((resolve, reject) => {
      const rl = readline.createInterface({ input: server.stdout! });
      rl.once('line', resolve);
      server.once('exit', (code) => reject(new Error(`market serve exited ${code}`)));
    });
    url = (JSON.parse(first) as { url: string }).url;
  }, 60_000);

  afterAll(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
    temp.cleanup();
  });

  it('market serve prints its URL as JSON', () => {
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  it('buyer submit runs a CPU-only job to the end, pays each report and prints the result', async () => {
    const provider = await TestProvider.connect(url, { chainId, escrow }, { gpus: [], freeGpus: 0, score: null });
    const served = (async () => {
      const o = await provider.nextOffer(15_000);
      expect(o.offer.job).toMatchObject({ gpus: 0, image: IMAGE, command: ['echo', 'hi'], pricePerHour: '500000000000000000', reportIntervalSeconds: 5, cpus: 2, memoryMiB: 256 });
      provider.reply(o.offer.offerId, true);
      await provider.peer.next('job-confirmed');
      await provider.report(o.offer.jobId, 7, o.offer.job.pricePerHour);
      await provider.peer.next('voucher');
      provider.end(o.offer.jobId, 'succeeded', 8);
      await provider.report(o.offer.jobId, 8, o.offer.job.pricePerHour, { final: true });
      await provider.peer.next('voucher');
      return o.offer.jobId;
    })();
    const r = await cli('buyer', 'submit', '--market', url, '--key-file', keyFile, '--image', IMAGE, '--gpus', '0', '--cpus', '2', '--memory', '256', '--price-per-hour', '0.5', '--report-interval', '5', '--json', '--', 'echo', 'hi');
    const jobId = await served;
    expect(r.code).toBe(0);
    const paid = amountForSeconds(8, 500000000000000000n).toString();
    expect(JSON.parse(r.stdout)).toEqual({ jobId, state: 'succeeded', reason: 'succeeded', provider: provider.address, usageSeconds: 8, paid, attempts: [{ attempt: 1, provider: provider.address, usageSeconds: 8, paid, state: 'succeeded' }] });
    expect(r.stderr).toMatch(/Usage 7 s, .* due: paid by voucher/);
    provider.close();

    const jobs = await cli('market', 'jobs', '--market', url, '--json');
    expect(jobs.code).toBe(0);
    expect(JSON.parse(jobs.stdout)).toEqual([expect.objectContaining({ jobId, state: 'succeeded', buyer: buyer.address, paid: '1111111111111111', gpus: 0 })]);
    const table = await cli('market', 'jobs', '--market', url);
    expect(table.stdout).toMatch(/^JOB\s+STATE/);
    expect(table.stdout).toContain(jobId);
    const providers = await cli('market', 'providers', '--market', url, '--json');
    expect(JSON.parse(providers.stdout)).toEqual([]);
  });

  it('buyer submit exits non-zero when the job does not succeed', async () => {
    const provider = await TestProvider.connect(url, { chainId, escrow }, { score: 5 });
    const served = (async () => {
      const o = await provider.nextOffer(15_000);
      provider.reply(o.offer.offerId, true);
      await provider.peer.next('job-confirmed');
      provider.end(o.offer.jobId, 'failed', 0, 'exit-code', 3);
    })();
    const r = await cli('buyer', 'submit', '--market', url, '--key-file', keyFile, '--image', IMAGE, '--', 'false');
    await served;
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ state: 'failed', reason: 'exit-code', paid: '0' });
    const providers = await cli('market', 'providers', '--market', url);
    expect(providers.stdout).toContain(provider.address);
    provider.close();
  });

  it('refuses bad flags with what to do', async () => {
    const noImage = await cli('buyer', 'submit', '--market', url, '--key-file', keyFile, '--', 'x');
    expect(noImage.code).toBe(2);
    expect(noImage.stderr).toMatch(/--image/);
    const badPrice = await cli('buyer', 'submit', '--market', url, '--key-file', keyFile, '--image', IMAGE, '--price-per-hour', '1e3', '--', 'x');
    expect(badPrice.code).toBe(2);
    const badInterval = await cli('buyer', 'submit', '--market', url, '--key-file', keyFile, '--image', IMAGE, '--report-interval', '2', '--', 'x');
    expect(badInterval.code).toBe(2);
    expect(badInterval.stderr).toMatch(/--report-interval/);
    const badMarket = await cli('market', 'jobs', '--market', 'http://127.0.0.1:1');
    expect(badMarket.code).toBe(2);
    const noChain = await cli('market', 'serve');
    expect(noChain.code).toBe(2);
    expect(noChain.stderr).toMatch(/devnet up/);
  });

  it('market serve stops cleanly on SIGTERM and keeps its jobs in --db', async () => {
    server.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => server.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(fs.statSync(path.join(temp.home, 'market.db')).size).toBeGreaterThan(0);
  });
});
