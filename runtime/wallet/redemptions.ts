/**
 * Redeeming a stored voucher on chain (a PayeeVoucher through `redeemToPayee`, which pays its
 * payee) and recording what the escrow paid, from our own receipts and from its `Redeemed` and
 * `PaidTo` events (reconciliation). The wallet service (service.ts) holds the key and calls in.
 */
import { Contract, getAddress, Transaction, ZeroAddress, type JsonRpcProvider, type Log, type TransactionReceipt } from 'ethers';
import { ESCROW_ABI } from '../chain/abi.js';
import { waitForReceipt } from '../chain/provider.js';
import { AppError } from '../errors.js';
import type { Ledger, StoredVoucher } from '../ledger/ledger.js';
import type { Logger } from '../log.js';
import { escrowReader, recheckCounted } from '../market/voucher-intake.js';
import type { Signer } from './keystore.js';
import type { NetworkConfig, RedeemResult } from './schema.js';
import { contractVoucher, redeemFunction } from './voucher.js';

const LOG_CHUNK = 10_000;

export interface RedemptionDeps {
  ledger(): Ledger;
  log(): Logger;
  receiptTimeoutMs(): number;
}

export const ctxOf = (net: NetworkConfig) => ({ chainId: net.chainId, escrow: net.escrow });

export class Redemptions {
  constructor(private readonly d: RedemptionDeps) {}

  async redeemOne(v: StoredVoucher, net: NetworkConfig, provider: JsonRpcProvider, signer: Signer): Promise<RedeemResult> {
    if (getAddress(v.escrow) !== getAddress(net.escrow) || v.chainId !== net.chainId) {
      throw new AppError('wrong-network', `Voucher ${v.id} is for the escrow ${v.escrow} on chain ${v.chainId}, not the network in use.`);
    }
    const base = { voucherId: v.id, jobId: v.voucher.jobId };
    if (v.status === 'redeemed') {
      throw new AppError('already-redeemed', `Voucher ${v.id} was already redeemed${v.redeemTx ? ` (transaction ${v.redeemTx})` : ''}: it pays nothing more.`);
    }
    // A previous attempt sent a transaction: finish it rather than send another.
    if (v.submittedTx) {
      const receipt = await provider.getTransactionReceipt(v.submittedTx);
      if (receipt && receipt.status === 1) {
        const paid = await this.recordReceipt(receipt, net, provider);
        return { ...base, txHash: receipt.hash, paid: paid.toString(), outcome: 'ok', error: null };
      }
    }
    const escrow = new Contract(net.escrow, ESCROW_ABI, signer);
    const struct = contractVoucher(v.voucher);
    const paidOnChain = (await escrow.getFunction('paid')(struct.buyer, struct.provider, struct.jobId)) as bigint;
    if (struct.cumulativeAmount <= paidOnChain) {
      await this.reconcileWith(net, provider, getAddress(v.voucher.provider));
      const after = this.d.ledger().voucher(v.id);
      throw new AppError(
        'already-redeemed',
        `Voucher ${v.id} was already redeemed${after?.redeemTx ? ` (transaction ${after.redeemTx})` : ''}: ${paidOnChain} base units were paid for this job, and it promises ${struct.cumulativeAmount}, so it pays nothing more.`,
      );
    }
    const block = await provider.getBlock('latest');
    if (block && BigInt(block.timestamp) > struct.expiry) {
      this.d.ledger().expireDue(block.timestamp * 1000);
      throw new AppError('voucher-expired', `Voucher ${v.id} expired at ${new Date(v.voucher.expiry * 1000).toISOString()} before it was redeemed. Ask the buyer for a new one.`);
    }
    // Simulate first: a refusal gets its reason without spending gas. A voucher naming a payee
    // pays it (redeemToPayee), whoever sends the transaction.
    const redeem = escrow.getFunction(redeemFunction(v.voucher));
    await redeem.staticCall(struct, v.signature);
    const populated = await signer.populateTransaction(await redeem.populateTransaction(struct, v.signature));
    const raw = await signer.signTransaction(populated);
    const hash = Transaction.from(raw).hash!;
    this.d.ledger().markSubmitted(v.id, hash);
    this.d.log().info('redeem sent', { voucherId: v.id, txHash: hash });
    try {
      await provider.broadcastTransaction(raw);
    } catch (error) {
      // "already known": the same transaction is in the pool; wait for it like any other.
      if (!/already known|known transaction/i.test(String((error as Error).message))) throw error;
    }
    const receipt = await waitForReceipt(provider, hash, this.d.receiptTimeoutMs());
    if (!receipt) throw new AppError('tx-timeout', `The redeem transaction ${hash} was not mined in time. Run redeem again later: it completes that transaction, never pays twice.`);
    if (receipt.status !== 1) throw new AppError('tx-reverted', `The redeem transaction ${hash} was reverted by the chain.`);
    const paid = await this.recordReceipt(receipt, net, provider);
    return { ...base, txHash: hash, paid: paid.toString(), outcome: 'ok', error: null };
  }

  private async recordReceipt(receipt: TransactionReceipt, net: NetworkConfig, provider: JsonRpcProvider): Promise<bigint> {
    const block = await provider.getBlock(receipt.blockNumber);
    let paid = 0n;
    const payees = payeesOf(receipt.logs, net.escrow);
    for (const log of receipt.logs) {
      const recorded = this.recordLog(log, net, (block?.timestamp ?? 0) * 1000, payees);
      if (recorded) paid += recorded.amount;
    }
    return paid;
  }

  private recordLog(log: Log, net: NetworkConfig, blockTime: number, payees: Map<string, string>): { amount: bigint; inserted: boolean } | null {
    if (getAddress(log.address) !== getAddress(net.escrow)) return null;
    const parsed = ESCROW_INTERFACE.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name !== 'Redeemed') return null;
    const inserted = this.d.ledger().recordRedemption({
      chainId: net.chainId,
      escrow: net.escrow,
      txHash: log.transactionHash,
      logIndex: log.index,
      blockNumber: log.blockNumber,
      blockTime,
      buyer: parsed.args[0] as string,
      provider: parsed.args[1] as string,
      jobId: parsed.args[2] as string,
      amount: parsed.args[3] as bigint,
      cumulative: parsed.args[4] as bigint,
      payee: payees.get(payeeKey(log.transactionHash, parsed.args[2] as string)) ?? null,
    });
    return { amount: parsed.args[3] as bigint, inserted };
  }

  /**
   * Reads the escrow's `Redeemed` events paying `address` since the last synced block (or from the
   * escrow's first block when `full`), with their payees, and records any the ledger lacks.
   */
  async reconcileWith(net: NetworkConfig, provider: JsonRpcProvider, address: string, full = false): Promise<{ added: number; toBlock: number }> {
    const escrow = new Contract(net.escrow, ESCROW_ABI, provider);
    const last = full ? null : this.d.ledger().lastSyncedBlock(ctxOf(net), address);
    const from = last === null ? net.fromBlock : last + 1;
    const latest = await provider.getBlockNumber();
    const filter = escrow.filters.Redeemed!(null, address);
    const paidToFilter = escrow.filters.PaidTo!(null, address);
    const blockTimes = new Map<number, number>();
    let added = 0;
    for (let start = from; start <= latest; start += LOG_CHUNK) {
      const end = Math.min(latest, start + LOG_CHUNK - 1);
      const logs = await escrow.queryFilter(filter, start, end);
      const payees = logs.length > 0 ? payeesOf(await escrow.queryFilter(paidToFilter, start, end), net.escrow) : new Map<string, string>();
      for (const log of logs) {
        let time = blockTimes.get(log.blockNumber);
        if (time === undefined) {
          time = ((await provider.getBlock(log.blockNumber))?.timestamp ?? 0) * 1000;
          blockTimes.set(log.blockNumber, time);
        }
        if (this.recordLog(log, net, time, payees)?.inserted) added++;
      }
      this.d.ledger().setSyncedBlock(ctxOf(net), address, end);
    }
    this.d.ledger().expireDue();
    // What the escrow would no longer pay (a buyer's deposit drained elsewhere) leaves the redeemable count.
    await recheckCounted(this.d.ledger(), escrowReader(provider, net.escrow), ctxOf(net));
    return { added, toBlock: latest };
  }
}

const ESCROW_INTERFACE = new Contract(ZeroAddress, ESCROW_ABI).interface;

const payeeKey = (txHash: string, jobId: string) => `${txHash.toLowerCase()}|${jobId.toLowerCase()}`;

/** The escrow's `PaidTo` events among `logs`: where each redeemed job's money went, by transaction and job. */
function payeesOf(logs: readonly Log[], escrow: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const log of logs) {
    if (getAddress(log.address) !== getAddress(escrow)) continue;
    const parsed = ESCROW_INTERFACE.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name === 'PaidTo') out.set(payeeKey(log.transactionHash, parsed.args[2] as string), getAddress(parsed.args[3] as string));
  }
  return out;
}
