/**
 * Property: over 10,000 seeded random voucher sequences (valid, forged, replayed, reordered,
 * expired, for other channels, jobs, providers or chains, with on-chain redemptions between
 * them), the ledger's redeemable total always equals what the escrow contract would pay for the
 * vouchers the ledger stored as valid; nothing it stored is anything but the channel buyer's
 * own voucher, and nothing sent is lost (each voucher is counted or kept as refused evidence).
 *
 * Every sequence runs the real intake (real EIP-712 recovery, the real check, the real SQLite
 * ledger). Most read the escrow from a model of the contract (its redeem rule, line for line);
 * every REAL_EVERY-th runs against the real escrow on anvil instead, and then redeems for real
 * what the ledger calls redeemable and compares the provider's token balance.
 * Seed: VOUCHER_SEED (printed); runs: VOUCHER_RUNS.
 */
import Database from 'better-sqlite3';
import { Contract, Wallet, type TransactionReceipt } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESCROW_ABI } from '../../../runtime/chain/abi.js';
import { depositToEscrow } from '../../../runtime/chain/deploy.js';
import { toJobId } from '../../../runtime/chain/job-id.js';
import { Ledger, type RedemptionEvent } from '../../../runtime/ledger/ledger.js';
import { escrowReader, recheckCounted, takeVoucher, type EscrowReader } from '../../../runtime/market/voucher-intake.js';
import { migrate } from '../../../runtime/storage/database.js';
import { migrations } from '../../../runtime/storage/migrations/index.js';
import type { SignedVoucher } from '../../../runtime/wallet/schema.js';
import { contractVoucher, signVoucher } from '../../../runtime/wallet/voucher.js';
import { startTestChain, type TestChain } from '../../helpers/anvil.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const SEED = Number(process.env.VOUCHER_SEED ?? 20261204);
const RUNS = Number(process.env.VOUCHER_RUNS ?? 10_000);
const REAL_EVERY = 500;
const POOR_DEPOSIT = 30n;

const prng = seededRandom;

type Kind = 'valid' | 'forged-self' | 'forged-sig' | 'other-chain' | 'other-job' | 'other-provider' | 'cross-buyer' | 'replay' | 'redeem' | 'gift';
const KINDS: [Kind, number][] = [
  ['valid', 38],
  ['forged-self', 7],
  ['forged-sig', 7],
  ['other-chain', 5],
  ['other-job', 7],
  ['other-provider', 5],
  ['cross-buyer', 5],
  ['replay', 12],
  ['redeem', 9],
  ['gift', 5],
];
const TOTAL_WEIGHT = KINDS.reduce((a, [, w]) => a + w, 0);

interface Sent {
  signed: SignedVoucher;
  /** The job it was sent for (0 to 2: our channels). */
  forJob: number;
  genuine: boolean;
}

describe('the ledger against the escrow, over random voucher sequences', () => {
  let chain: TestChain;
  const provider = Wallet.createRandom();
  const otherProvider = Wallet.createRandom().address;
  const forger = new Wallet(Wallet.createRandom().privateKey);
  let rich: Wallet;
  let poor: Wallet;
  let escrow: Contract;
  const signatures = new Map<string, SignedVoucher>();
  let now = 0;
  const db = new Database(':memory:');
  migrate(db, migrations);
  const ledger = new Ledger(db, () => now);

  beforeAll(async () => {
    chain = await startTestChain({ deposit: '1000' });
    rich = new Wallet(chain.buyer.privateKey, chain.provider);
    poor = new Wallet(Wallet.createRandom().privateKey, chain.provider);
    await chain.fund(poor.address, { eth: '10', tokens: '1' });
    escrow = new Contract(chain.escrow, ESCROW_ABI, chain.deployer);
  }, 60_000);
  afterAll(async () => {
    await chain?.stop();
    db.close();
  });

  /** Signing is memoized: the model runs reuse a few channels, so most vouchers repeat. */
  async function sign(signer: Wallet | typeof forger, v: { buyer: string; provider: string; job: string; amount: bigint; expiry: number }, chainId = chain.chainId): Promise<SignedVoucher> {
    const key = `${signer.address}|${chainId}|${v.buyer}|${v.provider}|${v.job}|${v.amount}|${v.expiry}`;
    let s = signatures.get(key);
    if (!s) {
      s = await signVoucher(signer, chainId, chain.escrow, { buyer: v.buyer, provider: v.provider, jobId: toJobId(v.job), cumulativeAmount: v.amount.toString(), expiry: v.expiry });
      if (signatures.size > 50_000) signatures.clear();
      signatures.set(key, s);
    }
    return s;
  }

  /** The escrow's redeem rule (OffshiftEscrow.redeem), on a model of its state. */
  class ModelEscrow implements EscrowReader {
    deposits = new Map<string, bigint>();
    paid = new Map<string, bigint>();
    constructor(private readonly nowSec: number) {}
    async channelFacts(buyer: string, p: string, jobId: string) {
      return { deposit: this.deposits.get(buyer) ?? 0n, paid: this.paid.get(`${buyer}|${p}|${jobId.toLowerCase()}`) ?? 0n };
    }
    /** What redeeming pays (0 when the contract would revert). Only genuine vouchers are submitted here. */
    redeem(v: SignedVoucher['voucher']): bigint {
      const key = `${v.buyer}|${v.provider}|${v.jobId.toLowerCase()}`;
      const already = this.paid.get(key) ?? 0n;
      const amount = BigInt(v.cumulativeAmount);
      if (v.expiry < this.nowSec || amount <= already) return 0n;
      const value = amount - already;
      const available = this.deposits.get(v.buyer) ?? 0n;
      if (value > available) return 0n;
      this.deposits.set(v.buyer, available - value);
      this.paid.set(key, amount);
      return value;
    }
    clone(): ModelEscrow {
      const c = new ModelEscrow(this.nowSec);
      c.deposits = new Map(this.deposits);
      c.paid = new Map(this.paid);
      return c;
    }
  }

  function redemptionFromReceipt(receipt: TransactionReceipt, blockTime: number): RedemptionEvent[] {
    const out: RedemptionEvent[] = [];
    for (const log of receipt.logs) {
      const parsed = escrow.interface.parseLog({ topics: [...log.topics], data: log.data });
      if (parsed?.name !== 'Redeemed') continue;
      out.push({ chainId: chain.chainId, escrow: chain.escrow, txHash: log.transactionHash, logIndex: log.index, blockNumber: log.blockNumber, blockTime, buyer: parsed.args[0] as string, provider: parsed.args[1] as string, jobId: parsed.args[2] as string, amount: parsed.args[3] as bigint, cumulative: parsed.args[4] as bigint });
    }
    return out;
  }

  /** Redeems on the real escrow; the Redeemed events, or [] when the contract refuses. */
  async function redeemReal(v: SignedVoucher): Promise<RedemptionEvent[]> {
    try {
      const tx = await escrow.getFunction('redeem')(contractVoucher(v.voucher), v.signature);
      const receipt = (await tx.wait())!;
      return redemptionFromReceipt(receipt, (await chain.now()) * 1000);
    } catch {
      return [];
    }
  }

  const tokenBalance = async (address: string) => (await new Contract(chain.token, ['function balanceOf(address) view returns (uint256)'], chain.provider).getFunction('balanceOf')(address)) as bigint;

  async function runSequence(index: number, rand: () => number, real: boolean): Promise<void> {
    const where = `seed ${SEED}, sequence ${index}${real ? ' (real escrow)' : ''}`;
    const nowSec = real ? await chain.now() : 1_900_000_000;
    const nowMs = nowSec * 1000;
    now = nowMs;
    // Each sequence starts from an empty ledger: its writes are rolled back at the end.
    db.exec('BEGIN');
    const model = new ModelEscrow(nowSec);
    model.deposits.set(rich.address, 10n ** 30n);
    model.deposits.set(poor.address, POOR_DEPOSIT);
    if (real) {
      const have = (await escrow.getFunction('deposits')(poor.address)) as bigint;
      if (have < POOR_DEPOSIT) await depositToEscrow(poor, chain.token, chain.escrow, POOR_DEPOSIT - have);
    }
    const reader: EscrowReader = real ? escrowReader(chain.provider, chain.escrow) : model;
    // Three channels of ours (the rich buyer's, and two of the poor buyer's that share its deposit), and a job that is not ours.
    const jobs = ['a', 'b', 'c', 'd'].map((x) => (real ? `r${SEED}-${index}-${x}` : `job-${x}`));
    const buyers = [rich, poor, poor];
    const channelOf = (j: number) => ({ chainId: chain.chainId, escrow: chain.escrow, buyer: buyers[j]!.address, provider: provider.address, jobId: toJobId(jobs[j]!) });
    const sent: Sent[] = [];
    const genuineSent: SignedVoucher[] = [];
    const amount = () => BigInt(1 + Math.floor(rand() * 20));
    const expiry = () => (rand() < 0.1 ? nowSec - 60 : nowSec + 86_400);

    const length = 1 + Math.floor(rand() * 12);
    for (let step = 0; step < length; step++) {
      let r = rand() * TOTAL_WEIGHT;
      let kind: Kind = 'valid';
      for (const [k, w] of KINDS) if ((r -= w) < 0) { kind = k; break; }
      const j = Math.floor(rand() * 3);
      const buyer = buyers[j]!;
      const base = { buyer: buyer.address, provider: provider.address, job: jobs[j]!, amount: amount(), expiry: expiry() };
      let item: Sent | null = null;
      switch (kind) {
        case 'valid':
          item = { signed: await sign(buyer, base), forJob: j, genuine: true };
          break;
        case 'forged-self':
          item = { signed: await sign(forger, { ...base, buyer: forger.address, amount: base.amount * 1000n }), forJob: j, genuine: false };
          break;
        case 'forged-sig':
          item = { signed: await sign(forger, base), forJob: j, genuine: false };
          break;
        case 'other-chain':
          item = { signed: await sign(buyer, base, chain.chainId + 1), forJob: j, genuine: false };
          break;
        case 'other-job':
          item = { signed: await sign(buyer, { ...base, job: jobs[3]! }), forJob: j, genuine: false };
          break;
        case 'other-provider':
          item = { signed: await sign(buyer, { ...base, provider: otherProvider }), forJob: j, genuine: false };
          break;
        case 'cross-buyer':
          item = { signed: await sign(j === 0 ? poor : rich, { ...base, buyer: (j === 0 ? poor : rich).address }), forJob: j, genuine: false };
          break;
        case 'replay':
          if (sent.length) {
            const again = sent[Math.floor(rand() * sent.length)]!;
            item = { ...again };
          }
          break;
        case 'redeem':
        case 'gift': {
          // Someone submits a genuine voucher on chain: one sent before, or one the buyer never sent here (a gift).
          const v = kind === 'redeem' && genuineSent.length ? genuineSent[Math.floor(rand() * genuineSent.length)]! : await sign(buyer, { ...base, expiry: nowSec + 86_400 });
          const events = real ? await redeemReal(v) : ((): RedemptionEvent[] => {
            const paid = model.redeem(v.voucher);
            return paid === 0n ? [] : [{ chainId: chain.chainId, escrow: chain.escrow, txHash: `0x${(index * 100 + step).toString(16).padStart(64, '0')}`, logIndex: 0, blockNumber: step + 1, blockTime: nowMs, buyer: v.voucher.buyer, provider: v.voucher.provider, jobId: v.voucher.jobId, amount: paid, cumulative: BigInt(v.voucher.cumulativeAmount) }];
          })();
          // Reconciliation records it and re-checks what is counted, as the wallet's tick does.
          for (const ev of events) ledger.recordRedemption(ev);
          await recheckCounted(ledger, reader, { chainId: chain.chainId, escrow: chain.escrow });
          break;
        }
      }
      if (!item) continue;
      sent.push(item);
      if (item.genuine) genuineSent.push(item.signed);
      await takeVoucher({ ledger, reader, nowMs, channel: channelOf(item.forJob), payee: null, signed: item.signed });
    }

    // Nothing the ledger counts is anything but a channel buyer's own voucher for that channel.
    const genuine = new Set(genuineSent.map((s) => s.signature.toLowerCase()));
    const stored = db.prepare('SELECT signature, cumulative_amount AS amount FROM ledger_vouchers').all() as { signature: string; amount: string }[];
    for (const s of stored) expect(genuine.has(s.signature), `${where}: a voucher that is not the channel buyer's own was counted`).toBe(true);
    // Nothing sent is lost: counted, or kept as refused evidence (a counted voucher resent after it was paid is neither: it is known).
    const refused = new Set((db.prepare('SELECT signature FROM ledger_refused_vouchers').all() as { signature: string }[]).map((r) => r.signature));
    const storedSigs = new Set(stored.map((s) => s.signature));
    for (const s of sent) expect(storedSigs.has(s.signed.signature.toLowerCase()) || refused.has(s.signed.signature.toLowerCase()), `${where}: a voucher was lost`).toBe(true);

    // The property: the ledger's redeemable total is what the escrow pays for the best stored voucher of each channel.
    const redeemable = BigInt(ledger.totals().redeemable);
    const best = new Map<string, SignedVoucher>();
    for (const v of ledger.redeemableVouchers({ chainId: chain.chainId, escrow: chain.escrow }, nowSec)) {
      const key = `${v.voucher.buyer}|${v.voucher.jobId}`;
      const current = best.get(key);
      if (!current || BigInt(v.voucher.cumulativeAmount) > BigInt(current.voucher.cumulativeAmount)) best.set(key, v);
    }
    let pays = 0n;
    if (real) {
      const before = await tokenBalance(provider.address);
      for (const v of best.values()) for (const ev of await redeemReal(v)) pays += ev.amount;
      expect((await tokenBalance(provider.address)) - before, `${where}: the provider's balance`).toBe(pays);
    } else {
      const after = model.clone();
      for (const v of best.values()) pays += after.redeem(v.voucher);
    }
    expect(redeemable, `${where}: the ledger's redeemable total against what the escrow pays`).toBe(pays);
    db.exec('ROLLBACK');
  }

  it(`holds over ${RUNS} seeded sequences (seed ${SEED}), every ${REAL_EVERY}th against the real escrow`, async () => {
    console.log(`[voucher property] seed ${SEED}, ${RUNS} sequences (VOUCHER_SEED / VOUCHER_RUNS to change)`);
    const started = Date.now();
    const rand = prng(SEED);
    let realRuns = 0;
    for (let i = 0; i < RUNS; i++) {
      const real = i % REAL_EVERY === REAL_EVERY - 1;
      if (real) realRuns++;
      await runSequence(i, rand, real);
    }
    console.log(`[voucher property] ${RUNS} sequences (${realRuns} on the real escrow) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);
});
