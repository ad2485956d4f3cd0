/**
 * What the owner reads after a buyer lied with vouchers, on a real data folder: a real detached
 * anvil from `devnet up`, the wallet from `wallet create`, the agent's own database filled by the
 * provider's voucher intake (counterfeits and one honest voucher), then `offshift earnings
 * --json`, `wallet status --json` and `earnings export` show only the honest earnings.
 */
import path from 'node:path';
import fs from 'node:fs';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../runtime/chain/anvil.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import { devnetVoucher, readDevnet } from '../../../runtime/demo/devnet.js';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { makeProvider } from '../../../runtime/chain/provider.js';
import { runCli } from '../../../runtime/cli.js';
import { Ledger } from '../../../runtime/ledger/ledger.js';
import { silentLogger } from '../../../runtime/log.js';
import { escrowReader, receiveMarketVoucher } from '../../../runtime/market/voucher-intake.js';
import { DATABASE_FILE, openDatabase } from '../../../runtime/storage/database.js';
import { signVoucher } from '../../../runtime/wallet/voucher.js';
import { makeTempHome } from '../../helpers/temp-home.js';

describe('earnings after a lying buyer, read from the CLI', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let env: NodeJS.ProcessEnv;
  let passwordFile: string;

  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    temp = makeTempHome();
    env = { ...process.env, OFFSHIFT_HOME: temp.home, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024' };
    passwordFile = path.join(temp.home, 'password.txt');
    fs.writeFileSync(passwordFile, 'a long enough password\n');
    expect((await cli('devnet', 'up', '--port', String(await freePort()), '--json')).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await cli('devnet', 'down');
    temp.cleanup();
  });

  it('counterfeit vouchers never show as earnings: earnings --json, wallet status and earnings export show the honest 12 OFT only', async () => {
    const created = JSON.parse((await cli('wallet', 'create', '--json', '--password-file', passwordFile)).stdout) as { address: string };
    const info = readDevnet(temp.home)!;
    const job = 'job-that-ran';
    const neverRan = 'job-that-never-ran';

    // The agent's data folder, as the provider fills it while a market job runs.
    const db = openDatabase(path.join(temp.home, DATABASE_FILE));
    const rpc = makeProvider(info.rpcUrl, info.chainId);
    try {
      const ledger = new Ledger(db);
      const now = Date.now();
      db.prepare(
        `INSERT INTO market_jobs (job_id, local_job_id, market_url, buyer, price_per_hour, report_interval_s, chain_id, escrow, accepted_at)
         VALUES (?, ?, 'ws://127.0.0.1:1', ?, '1000', 5, ?, ?, ?)`,
      ).run(job, `m-${job}`, info.buyer.address, info.chainId, info.escrow, now);
      const deps = { db, ledger, log: silentLogger, now: () => now, provider: created.address, reader: () => escrowReader(rpc, info.escrow), autoRedeem: async () => [], onChange: () => {} };
      const forger = Wallet.createRandom();
      const forge = (jobName: string, amount: bigint) =>
        signVoucher(forger, info.chainId, info.escrow, { buyer: forger.address, provider: created.address, jobId: toJobId(jobName), cumulativeAmount: amount.toString(), expiry: Math.floor(now / 1000) + 86_400 });
      await receiveMarketVoucher(deps, job, await forge(job, tokens(10_000_007)), undefined);
      await receiveMarketVoucher(deps, job, await forge(neverRan, tokens(10_000_007)), undefined);
      await receiveMarketVoucher(deps, job, await devnetVoucher(temp.home, { provider: created.address, job, cumulativeAmount: tokens(12) }), undefined);
      expect(ledger.refusedVouchers().total).toBe(2);
    } finally {
      rpc.destroy();
      db.close();
    }

    const earnings = await cli('earnings', '--json', '--tz', 'UTC');
    expect(earnings.code).toBe(0);
    expect(JSON.parse(earnings.stdout)).toMatchObject({ allTime: tokens(12).toString(), totals: { redeemable: tokens(12).toString(), pending: '0', jobs: 1 } });

    const status = await cli('wallet', 'status', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ redeemable: tokens(12).toString(), chainError: null });

    const exported = await cli('earnings', 'export', '--tz', 'UTC');
    expect(exported.code).toBe(0);
    const rows = exported.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.split(',')).toEqual([expect.any(String), toJobId(job), '', '', '', '12', 'OFT', 'redeemable', '', '']);
    expect(exported.stdout).not.toContain(toJobId(neverRan));
  }, 60_000);
});
