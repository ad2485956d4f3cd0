/**
 * Withdrawing tokens from the wallet in two steps: a quote (address checked, amount, fee) the
 * owner confirms, then the transfer. The signed transaction is recorded before it is sent; if
 * its end is not seen (the RPC went away), a retry of the same quote sends the same bytes again
 * or finds them mined: a withdrawal is never paid twice.
 */
import crypto from 'node:crypto';
import { Contract, getAddress, isAddress, Transaction, ZeroAddress, type JsonRpcProvider } from 'ethers';
import { AppError } from '../errors.js';
import { TOKEN_ABI } from '../chain/abi.js';
import { waitForReceipt } from '../chain/provider.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Logger } from '../log.js';
import { chainError } from './errors.js';
import type { Signer } from './keystore.js';
import type { NetworkConfig } from './schema.js';

export interface WithdrawQuote {
  quoteId: string;
  to: string;
  amount: string;
  gasLimit: string;
  maxFeePerGas: string;
  maxFee: string;
  nativeBalance: string;
  expiresAt: number;
}

export interface WithdrawResult {
  txHash: string;
  amount: string;
  to: string;
  blockNumber: number;
}

const QUOTE_TTL_MS = 5 * 60_000;

/** What a withdrawal needs from the wallet service. */
export interface WithdrawDeps {
  address(): string | null;
  connect(): Promise<{ net: NetworkConfig; provider: JsonRpcProvider }>;
  requireSigner(): Signer;
  /** One chain-writing operation at a time. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  ledger(): Ledger;
  log(): Logger;
  onWithdrawn(address: string | null): void;
  receiptTimeoutMs(): number;
}

type Quote = WithdrawQuote & { network: NetworkConfig };

export class Withdrawals {
  private readonly quotes = new Map<string, Quote>();
  /** Signed and recorded, end not seen yet: a retry of the quote sends these same bytes. */
  private readonly sent = new Map<string, { raw: string; hash: string; id: number; quote: Quote }>();

  constructor(private readonly d: WithdrawDeps) {}

  /** Step one: checks the address and amount and estimates the fee. Nothing is sent. */
  async prepare(toInput: string, amountText: string): Promise<WithdrawQuote> {
    const address = this.d.address();
    if (!address) throw new AppError('no-wallet', 'There is no wallet to withdraw from.');
    const to = checkDestination(toInput);
    const amount = BigInt(amountText);
    if (amount <= 0n) throw new AppError('invalid-input', 'The amount to withdraw must be more than zero.');
    const { net, provider } = await this.d.connect();
    try {
      if (to === getAddress(net.escrow)) throw new AppError('invalid-address', 'That is the escrow contract: tokens sent there are lost. Give an address you control.');
      if (to === getAddress(net.token)) throw new AppError('invalid-address', 'That is the token contract itself: tokens sent there are lost. Give an address you control.');
      if (to === address) throw new AppError('invalid-address', 'That is this wallet itself.');
      const token = new Contract(net.token, TOKEN_ABI, provider);
      const balance = (await token.getFunction('balanceOf')(address)) as bigint;
      if (amount > balance) throw new AppError('insufficient-balance', `The wallet holds ${balance} base units; it cannot send ${amount}.`);
      const gasLimit = ((await token.getFunction('transfer').estimateGas(to, amount, { from: address })) * 12n) / 10n;
      const fee = await provider.getFeeData();
      const maxFeePerGas = fee.maxFeePerGas ?? fee.gasPrice ?? 0n;
      const nativeBalance = await provider.getBalance(address);
      const maxFee = gasLimit * maxFeePerGas;
      if (maxFee > nativeBalance) {
        throw new AppError('insufficient-gas', `The fee can reach ${maxFee} wei but the wallet holds ${nativeBalance} wei of the native coin. Add some to ${address} first.`);
      }
      const quote = {
        quoteId: crypto.randomUUID(),
        to,
        amount: amount.toString(),
        gasLimit: gasLimit.toString(),
        maxFeePerGas: maxFeePerGas.toString(),
        maxFee: maxFee.toString(),
        nativeBalance: nativeBalance.toString(),
        expiresAt: Date.now() + QUOTE_TTL_MS,
      };
      this.quotes.set(quote.quoteId, { ...quote, network: net });
      return quote;
    } catch (error) {
      throw chainError(error, net.rpcUrl, 'estimate the withdrawal');
    } finally {
      provider.destroy();
    }
  }

  /** Step two: sends what the owner confirmed. */
  async send(quoteId: string): Promise<WithdrawResult> {
    const sent = this.sent.get(quoteId);
    if (sent) return this.d.serial(() => this.finishWithdrawal(quoteId, sent));
    const quote = this.quotes.get(quoteId);
    if (!quote) throw new AppError('not-found', 'That withdrawal quote is unknown or was already used. Prepare the withdrawal again.');
    if (quote.expiresAt < Date.now()) {
      this.quotes.delete(quoteId);
      throw new AppError('quote-expired', 'That withdrawal quote expired (fees change). Prepare the withdrawal again.');
    }
    const signer = this.d.requireSigner();
    this.quotes.delete(quoteId);
    return this.d.serial(async () => {
      const { net, provider } = await this.d.connect();
      if (net.chainId !== quote.network.chainId || getAddress(net.token) !== getAddress(quote.network.token)) {
        throw new AppError('wrong-network', 'The network changed since the withdrawal was prepared. Prepare it again.');
      }
      const wallet = signer.connect(provider);
      try {
        const token = new Contract(net.token, TOKEN_ABI, wallet);
        const populated = await wallet.populateTransaction(
          await token.getFunction('transfer').populateTransaction(quote.to, BigInt(quote.amount), { gasLimit: BigInt(quote.gasLimit) }),
        );
        if (populated.maxFeePerGas !== undefined && populated.maxFeePerGas !== null && BigInt(populated.maxFeePerGas) > BigInt(quote.maxFeePerGas)) {
          populated.maxFeePerGas = BigInt(quote.maxFeePerGas);
          if (populated.maxPriorityFeePerGas !== undefined && populated.maxPriorityFeePerGas !== null && BigInt(populated.maxPriorityFeePerGas) > BigInt(quote.maxFeePerGas)) {
            populated.maxPriorityFeePerGas = BigInt(quote.maxFeePerGas);
          }
        }
        const raw = await wallet.signTransaction(populated);
        const hash = Transaction.from(raw).hash!;
        const id = this.d.ledger().recordWithdrawal({ chainId: net.chainId, token: net.token, from: wallet.address, to: quote.to, amount: BigInt(quote.amount), txHash: hash });
        this.sent.set(quoteId, { raw, hash, id, quote });
        this.d.log().info('withdrawal sent', { txHash: hash, to: quote.to, amount: quote.amount });
      } catch (error) {
        provider.destroy();
        throw chainError(error, net.rpcUrl, 'send the withdrawal');
      }
      provider.destroy();
      return this.finishWithdrawal(quoteId, this.sent.get(quoteId)!);
    });
  }

  /** Broadcasts a recorded withdrawal (again: the same bytes) and waits for its receipt. */
  private async finishWithdrawal(
    quoteId: string,
    sent: { raw: string; hash: string; id: number; quote: WithdrawQuote & { network: NetworkConfig } },
  ): Promise<WithdrawResult> {
    const { net, provider } = await this.d.connect();
    const { raw, hash, id, quote } = sent;
    try {
      if (net.chainId !== sent.quote.network.chainId) throw new AppError('wrong-network', `The network changed since the withdrawal ${hash} was sent; switch back to chain ${sent.quote.network.chainId} to follow it.`);
      // Already on the chain (a retry after the RPC went away): it is not sent again.
      const known = await provider.getTransactionReceipt(hash);
      if (!known) {
        try {
          await provider.broadcastTransaction(raw);
        } catch (error) {
          // The same transaction already in the pool or mined meanwhile: wait for it.
          if (!/already known|nonce (too low|has already been used)|known transaction/i.test(String((error as Error).message))) throw error;
        }
      }
      const receipt = known ?? (await waitForReceipt(provider, hash, this.d.receiptTimeoutMs()));
      if (!receipt) throw new AppError('tx-timeout', `The withdrawal ${hash} was not mined in time; it is recorded and will be checked again.`);
      this.sent.delete(quoteId);
      if (receipt.status !== 1) {
        this.d.ledger().settleWithdrawal(id, { error: 'reverted' });
        throw new AppError('tx-reverted', `The withdrawal ${hash} was reverted by the chain; no tokens left the wallet.`);
      }
      this.d.ledger().settleWithdrawal(id, { blockNumber: receipt.blockNumber });
      this.d.onWithdrawn(this.d.address());
      return { txHash: hash, amount: quote.amount, to: quote.to, blockNumber: receipt.blockNumber };
    } catch (error) {
      const e = chainError(error, net.rpcUrl, 'send the withdrawal');
      if (this.sent.has(quoteId)) {
        throw new AppError(e.code, `${e.message} The withdrawal ${hash} is recorded: retry it (the same transaction is sent again, never a second one).`);
      }
      throw e;
    } finally {
      provider.destroy();
    }
  }

  /** Withdrawals whose receipt was not seen (the agent stopped, the RPC went away): settle them. */
  async settlePending(): Promise<void> {
    const pending = this.d.ledger().pendingWithdrawals();
    if (pending.length === 0) return;
    const { provider } = await this.d.connect();
    try {
      for (const w of pending) {
        const receipt = await provider.getTransactionReceipt(w.txHash);
        if (receipt) this.d.ledger().settleWithdrawal(w.id, receipt.status === 1 ? { blockNumber: receipt.blockNumber } : { error: 'reverted' });
      }
    } finally {
      provider.destroy();
    }
  }
}

/** A destination address: checksum checked when mixed-case, never the zero address. */
export function checkDestination(input: string): string {
  const text = input.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) throw new AppError('invalid-address', `"${input}" is not an address (0x and 40 hex digits).`);
  if (!isAddress(text)) throw new AppError('invalid-address', `The address ${text} has a wrong checksum (a typo?). Copy it again from its source.`);
  const to = getAddress(text);
  if (to === ZeroAddress) throw new AppError('invalid-address', 'That is the zero address: tokens sent there are burnt. Give an address you control.');
  return to;
}
