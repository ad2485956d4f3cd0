/**
 * A database from before vouchers were checked against their job's buyer (migrations 1–4 only),
 * holding what the counterfeit attack left: a counterfeit 10,000,007 OFT voucher merged into a
 * job's row beside the honest 12 OFT. Opened by this version (migration 005) and re-checked once,
 * as the wallet does after reconciliation, against a real anvil and the real escrow: the
 * counterfeit leaves the count (kept as evidence) and the job's row is the honest channel's.
 */
import path from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { tokens } from '../../../runtime/chain/deploy.js';
import { split } from '../../../runtime/ledger/amount.js';
import { classify } from '../../../runtime/ledger/classify.js';
import { Ledger } from '../../../runtime/ledger/ledger.js';
import { escrowReader, recheckCounted } from '../../../runtime/market/voucher-intake.js';
import { DATABASE_FILE, openDatabase } from '../../../runtime/storage/database.js';
import { migrations } from '../../../runtime/storage/migrations/index.js';
import { signVoucher } from '../../../runtime/wallet/voucher.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { makeTempHome } from '../../helpers/temp-home.js';

describe('a ledger from before the voucher check', () => {
  let chain: TestChain;
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(async () => {
    chain = await startTestChain({ deposit: '1000' });
    temp = makeTempHome();
  }, 60_000);
  afterAll(async () => {
    temp?.cleanup();
    await chain?.stop();
  });

  it('takes the counterfeit out of the count once, keeps it as evidence, and rebuilds the job by channel', async () => {
    const file = path.join(temp.home, DATABASE_FILE);
    const provider = Wallet.createRandom().address;
    const forger = Wallet.createRandom();
    const job = 'job-before-005';
    const jobId = toJobId(job);
    const nowSec = await chain.now();
    const expiry = nowSec + 86_400;
    const honest = await signVoucher(chain.buyer, chain.chainId, chain.escrow, { buyer: chain.buyer.address, provider, jobId, cumulativeAmount: tokens(12).toString(), expiry });
    const counterfeit = await signVoucher(forger, chain.chainId, chain.escrow, { buyer: forger.address, provider, jobId, cumulativeAmount: tokens(10_000_007).toString(), expiry });

    // What the code before wrote: both vouchers stored, merged into one row keyed by the job id.
    const old = openDatabase(file, migrations.filter((m) => m.version <= 4));
    old.prepare(`INSERT INTO market_jobs (job_id, local_job_id, market_url, buyer, price_per_hour, report_interval_s, chain_id, escrow, accepted_at) VALUES (?, ?, 'ws://x', ?, '1', 5, ?, ?, ?)`).run(
      job,
      `m-${job}`,
      chain.buyer.address,
      chain.chainId,
      chain.escrow,
      nowSec * 1000,
    );
    const insertVoucher = old.prepare(
      `INSERT INTO ledger_vouchers (chain_id, escrow, buyer, provider, market_job_id, cumulative_amount, expiry, signature, received_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'redeemable')`,
    );
    for (const v of [honest, counterfeit]) insertVoucher.run(chain.chainId, chain.escrow, v.voucher.buyer, provider, jobId, v.voucher.cumulativeAmount, expiry, v.signature.toLowerCase(), nowSec * 1000);
    old.prepare('INSERT INTO ledger_usage_reports (chain_id, escrow, market_job_id, reported_at, amount) VALUES (?, ?, ?, ?, ?)').run(chain.chainId, chain.escrow, jobId, nowSec * 1000, tokens(12).toString());
    const { status, parts } = classify({ owed: tokens(12), vouched: tokens(10_000_007), paid: 0n, expiry }, nowSec);
    const cols = Object.keys(parts).flatMap((p) => [`${p}_hi`, `${p}_lo`]);
    old.prepare(
      `INSERT INTO ledger_earnings (chain_id, escrow, market_job_id, buyer, provider, at, owed, vouched, paid, expiry, status, ${cols.join(', ')}) VALUES (${Array(11 + cols.length).fill('?').join(', ')})`,
    ).run(chain.chainId, chain.escrow, jobId, forger.address, provider, nowSec * 1000, tokens(12).toString(), tokens(10_000_007).toString(), '0', expiry, status, ...Object.values(parts).flatMap((a) => split(a)));
    old.close();

    const db = openDatabase(file);
    try {
      const ledger = new Ledger(db, () => nowSec * 1000);
      expect(ledger.totals().redeemable).toBe(tokens(10_000_007).toString());
      const taken = await recheckCounted(ledger, escrowReader(chain.provider, chain.escrow), { chainId: chain.chainId, escrow: chain.escrow });
      expect(taken).toBe(1);
      expect(ledger.totals()).toMatchObject({ redeemable: tokens(12).toString(), pending: '0', jobs: 1 });
      expect(ledger.jobs().jobs).toMatchObject([{ marketJobId: jobId, earned: tokens(12).toString(), status: 'redeemable' }]);
      expect(db.prepare('SELECT buyer FROM ledger_earnings').all()).toEqual([{ buyer: chain.buyer.address }]);
      expect(ledger.refusedVouchers().vouchers).toMatchObject([{ kind: 'wrong-channel', expectedBuyer: chain.buyer.address, voucher: { buyer: forger.address }, reason: expect.stringMatching(/counted before Offshift checked vouchers/) }]);
      // Once: a second re-check finds nothing more to do.
      expect(await recheckCounted(ledger, escrowReader(chain.provider, chain.escrow), { chainId: chain.chainId, escrow: chain.escrow })).toBe(0);
    } finally {
      db.close();
    }
  });
});
