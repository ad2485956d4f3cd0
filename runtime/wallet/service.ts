/**
 * The owner's wallet: keystore, balances, redeeming vouchers, withdrawing, and reconciling the
 * ledger with the chain. The key lives only here, in memory while unlocked; no method returns it
 * except create's one-time mnemonic and the password-checked export.
 */
import type { JsonRpcProvider } from 'ethers';
import { AppError } from '../errors.js';
import { localChainNetwork } from '../chain/local-chain.js';
import { checkChainId, makeProvider } from '../chain/provider.js';
import type { Ledger, StoredVoucher } from '../ledger/ledger.js';
import type { Logger } from '../log.js';
import { loadPolicy } from '../policy/load.js';
import { policyFilePath } from '../policy/paths.js';
import { openSettingsStore } from '../settings/store.js';
import { isNetworkError } from './errors.js';
import { writeIdentityRecord } from './identity-record.js';
import { createKeystore, decryptKeystore, importKeystore, keystoreExists, readKeystore, type KeystoreOptions, type Signer } from './keystore.js';
import { readMachineFacts, type MachineFacts } from './machine-id.js';
import { payoutAddressOrThrow, readPayout, type PayoutSource } from './payout.js';
import { DEVNET_NETWORK, type NetworkConfig, type NetworkInput, type RedeemResult, type SignedVoucher, type WalletSettings, type WalletSettingsView, type WalletStatus } from './schema.js';
import type { WalletDeps } from './service-deps.js';
import { updateWalletSettings } from './service-settings.js';
import { identityNote, refuseCopiedKey } from './service-identity.js';
import { walletStatus } from './service-status.js';
import { addVoucher, reconcileEscrow, redeemStored } from './service-vouchers.js';
import { readWalletSettings } from './settings.js';
import { Withdrawals, type WithdrawQuote } from './withdraw.js';
import { Redemptions } from './redemptions.js';

export type WalletUpdateReason = 'created' | 'imported' | 'unlocked' | 'locked' | 'redeemed' | 'withdrawn' | 'reconciled' | 'settings';

export interface WalletServiceOptions extends KeystoreOptions {
  home: string;
  ledger: Ledger;
  log: Logger;
  onUpdate?: (reason: WalletUpdateReason, address: string | null) => void;
  /** How long to wait for a transaction's receipt. */
  receiptTimeoutMs?: number;
  /** This machine's identity facts (machine-id.ts); read once from the OS unless given. */
  machineFacts?: () => Promise<MachineFacts>;
  /** The settings file and the admin policy the payout address is read from (default: the data folder's and the policy file's). */
  payout?: PayoutSource;
}

export class WalletService {
  private signer: Signer | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  private machine: Promise<MachineFacts> | null = null;
  /** What the parts in service-status.ts, service-vouchers.ts and service-settings.ts use. */
  private readonly deps: WalletDeps = {
    home: () => this.home,
    ledger: () => this.ledger,
    log: () => this.options.log,
    address: () => this.address(),
    isUnlocked: () => this.isUnlocked(),
    settings: () => this.settings(),
    network: () => this.network(),
    connect: () => this.connect(),
    identityNote: () => this.identityNote(),
    payoutSource: () => this.payoutSource(),
    payoutAddress: () => this.payoutAddress(),
    requireSigner: () => this.requireSigner(),
    serial: (fn) => this.serial(fn),
    redemptions: () => this.redemptions,
    onUpdate: () => this.options.onUpdate,
    receiptTimeoutMs: () => this.options.receiptTimeoutMs ?? 120_000,
  };
  private readonly withdrawals = new Withdrawals({ ...this.deps, onWithdrawn: (address) => this.options.onUpdate?.('withdrawn', address) });
  private readonly redemptions = new Redemptions(this.deps);

  constructor(private readonly options: WalletServiceOptions) {}

  private get home(): string {
    return this.options.home;
  }
  private get ledger(): Ledger {
    return this.options.ledger;
  }

  /** One chain-writing operation at a time (nonces, and the ledger's order of events). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  // ── keystore ───────────────────────────────────────────────────────────

  address(): string | null {
    return keystoreExists(this.home) ? readKeystore(this.home).address : null;
  }

  /** Why the keystore that exists cannot be read (damaged, a folder…), with what to do; null when it reads or there is none. */
  keystoreProblem(): string | null {
    if (!keystoreExists(this.home)) return null;
    try {
      readKeystore(this.home);
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  }

  private machineFacts(): Promise<MachineFacts> {
    return (this.machine ??= (this.options.machineFacts ?? (() => readMachineFacts()))());
  }

  /** A key made or imported here belongs to this machine (identity-record.ts). */
  private async recordIdentity(address: string, how: 'created' | 'imported'): Promise<void> {
    writeIdentityRecord(this.home, address, await this.machineFacts(), how);
  }

  /** Why this data folder's wallet is not the one it was copied with, when it was copied (identity-check.ts); else null. */
  identityNote(): string | null {
    return identityNote(this.home, () => this.address());
  }

  isUnlocked(): boolean {
    return this.signer !== null;
  }

  async create(password: string): Promise<{ address: string; mnemonic: string }> {
    const { wallet, mnemonic } = await createKeystore(this.home, password, this.options);
    await this.recordIdentity(wallet.address, 'created');
    this.signer = wallet;
    this.options.log.info('wallet created', { address: wallet.address });
    this.options.onUpdate?.('created', wallet.address);
    return { address: wallet.address, mnemonic };
  }

  async import(password: string, secret: { mnemonic?: string; privateKey?: string }): Promise<{ address: string }> {
    const wallet = await importKeystore(this.home, password, secret, this.options);
    await this.recordIdentity(wallet.address, 'imported');
    this.signer = wallet;
    this.options.log.info('wallet imported', { address: wallet.address });
    this.options.onUpdate?.('imported', wallet.address);
    return { address: wallet.address };
  }

  async unlock(password: string): Promise<{ address: string }> {
    await refuseCopiedKey(this.home, readKeystore(this.home).address, () => this.machineFacts());
    this.signer = await decryptKeystore(this.home, password);
    this.options.onUpdate?.('unlocked', this.signer.address);
    return { address: this.signer.address };
  }

  lock(): void {
    this.signer = null;
    this.options.onUpdate?.('locked', this.address());
  }

  /** The one command that returns the key: it asks for the password again, even when unlocked. */
  async exportKey(password: string): Promise<{ address: string; privateKey: string; mnemonic: string | null }> {
    const wallet = await decryptKeystore(this.home, password);
    this.options.log.warn('wallet key exported', { address: wallet.address });
    return { address: wallet.address, privateKey: wallet.privateKey, mnemonic: 'mnemonic' in wallet && wallet.mnemonic ? wallet.mnemonic.phrase : null };
  }

  /** Signs a text (EIP-191) with the wallet's key, which stays here: the market sign-in and usage reports. */
  async signMessage(text: string): Promise<string> {
    return this.requireSigner().signMessage(text);
  }

  private requireSigner(): Signer {
    if (!this.signer) throw new AppError('wallet-locked', 'The wallet is locked. Unlock it with its password first.');
    return this.signer;
  }

  // ── network ────────────────────────────────────────────────────────────

  settings(): WalletSettings {
    return readWalletSettings(this.home);
  }

  /** The settings as `wallet.settings` shows them, the payout address with them. */
  settingsView(): WalletSettingsView {
    return { ...this.settings(), payout: readPayout(this.payoutSource()) };
  }

  /** Where this machine's earnings must go: its payout address, or null (this wallet). */
  payoutAddress(): string | null {
    return payoutAddressOrThrow(this.payoutSource());
  }

  private payoutSource(): PayoutSource {
    return (this.options.payout ??= { store: openSettingsStore(this.home), policy: () => loadPolicy(policyFilePath()) });
  }

  async updateSettings(change: { autoRedeemThreshold?: string | null; network?: string; addNetwork?: NetworkInput; payoutAddress?: string | null }): Promise<WalletSettingsView> {
    return updateWalletSettings(this.deps, change);
  }

  /** The token's symbol and decimals for display (the local chain's when no network is set up). */
  tokenMeta(): { symbol: string; decimals: number } {
    try {
      const net = this.network();
      return { symbol: net.tokenSymbol, decimals: net.tokenDecimals };
    } catch {
      return { symbol: 'OFT', decimals: 18 };
    }
  }

  /** The network in use, or a clear error naming what is missing. */
  network(): NetworkConfig {
    const settings = this.settings();
    if (settings.network === DEVNET_NETWORK) return localChainNetwork(this.home);
    const net = settings.networks.find((n) => n.name === settings.network);
    if (!net) throw new AppError('no-network', `The selected network "${settings.network}" is not configured. Pick or add one in the wallet settings.`);
    return net;
  }

  private async connect(): Promise<{ net: NetworkConfig; provider: JsonRpcProvider }> {
    const net = this.network();
    await checkChainId(net.rpcUrl, net.chainId);
    return { net, provider: makeProvider(net.rpcUrl, net.chainId) };
  }

  // ── status ─────────────────────────────────────────────────────────────

  async status(): Promise<WalletStatus> {
    return walletStatus(this.deps);
  }

  // ── vouchers ───────────────────────────────────────────────────────────

  /**
   * Checks a voucher (this network, our address, the buyer's signature, then the escrow: not
   * expired, adding something beyond what its channel was paid, covered by the buyer's deposit)
   * and counts it (nothing is sent). One that fails the escrow's checks is kept as refused
   * evidence, never counted, and the error says why.
   */
  async addVoucher(input: unknown): Promise<StoredVoucher> {
    return addVoucher(this.deps, input);
  }

  /** Redeems one voucher file's content: stored first, then sent. Throws on failure. */
  async redeemVoucher(input: unknown): Promise<RedeemResult> {
    const stored = await this.addVoucher(input);
    const [result] = await this.redeemStored([stored.id], true);
    return result!;
  }

  /** Redeems stored vouchers (all redeemable ones when `ids` is omitted), one after the other. */
  async redeem(ids?: number[]): Promise<RedeemResult[]> {
    return this.redeemStored(ids, false);
  }

  private redeemStored(ids: number[] | undefined, throwOnError: boolean): Promise<RedeemResult[]> {
    return redeemStored(this.deps, ids, throwOnError);
  }

  // ── reconciliation ─────────────────────────────────────────────────────

  /**
   * Reads the escrow's `Redeemed` events paying this wallet since the last synced block (or
   * from the escrow's first block when `full`), and records any the ledger lacks.
   */
  async reconcile(options: { full?: boolean } = {}): Promise<{ added: number; toBlock: number }> {
    return reconcileEscrow(this.deps, options);
  }

  /** Redeems everything redeemable once it passes the owner's threshold (when unlocked). */
  async autoRedeem(): Promise<RedeemResult[] | null> {
    const threshold = this.settings().autoRedeemThreshold;
    if (threshold === null || !this.signer) return null;
    if (BigInt(this.ledger.totals().redeemable) < BigInt(threshold)) return null;
    return this.redeem();
  }

  // ── withdraw (withdraw.ts) ─────────────────────────────────────────────

  /** Step one: checks the address and amount and estimates the fee. Nothing is sent. */
  async prepareWithdraw(toInput: string, amountText: string): Promise<WithdrawQuote> {
    return this.withdrawals.prepare(toInput, amountText);
  }

  /** Step two: sends what the owner confirmed; a retry of the same quote never sends twice. */
  async withdraw(quoteId: string): Promise<{ txHash: string; amount: string; to: string; blockNumber: number }> {
    return this.withdrawals.send(quoteId);
  }

  /** Withdrawals whose receipt was not seen (the agent stopped, the RPC went away): settle them. */
  async settlePendingWithdrawals(): Promise<void> {
    return this.withdrawals.settlePending();
  }
}

export { checkDestination, type WithdrawQuote } from './withdraw.js';
export { isNetworkError };
export type { SignedVoucher };
