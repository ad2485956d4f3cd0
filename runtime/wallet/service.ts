/**
 * The owner's wallet: keystore, balances, redeeming vouchers, withdrawing, and reconciling the
 * ledger with the chain. The key lives only here, in memory while unlocked; no method returns it
 * except create's one-time mnemonic and the password-checked export.
 */
import { Contract, getAddress, type JsonRpcProvider } from 'ethers';
import { AppError } from '../errors.js';
import { TOKEN_ABI } from '../chain/abi.js';
import { localChainNetwork } from '../chain/local-chain.js';
import { checkChainId, makeProvider } from '../chain/provider.js';
import type { Ledger, StoredVoucher } from '../ledger/ledger.js';
import type { Logger } from '../log.js';
import { loadPolicy } from '../policy/load.js';
import { policyFilePath } from '../policy/paths.js';
import { openSettingsStore } from '../settings/store.js';
import { chainError, isNetworkError } from './errors.js';
import { compareIdentity, copiedSentence, readCopiedReport, readIdentityRecord, writeIdentityRecord } from './identity-record.js';
import { createKeystore, decryptKeystore, importKeystore, keystoreExists, readKeystore, type KeystoreOptions, type Signer } from './keystore.js';
import { readMachineFacts, type MachineFacts } from './machine-id.js';
import { payoutAddressOrThrow, readPayout, setPayout, type PayoutSource } from './payout.js';
import { DEVNET_NETWORK, networkSchema, type NetworkConfig, type NetworkInput, type RedeemResult, type SignedVoucher, type WalletSettings, type WalletSettingsView, type WalletStatus } from './schema.js';
import { readWalletSettings, writeWalletSettings } from './settings.js';
import { parseVoucher, recoverVoucherSigner } from './voucher.js';
import { escrowReader, takeVoucher } from '../market/voucher-intake.js';
import { Withdrawals, type WithdrawQuote } from './withdraw.js';
import { ctxOf, Redemptions } from './redemptions.js';

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
  private readonly withdrawals = new Withdrawals({
    address: () => this.address(),
    connect: () => this.connect(),
    requireSigner: () => this.requireSigner(),
    serial: (fn) => this.serial(fn),
    ledger: () => this.ledger,
    log: () => this.options.log,
    onWithdrawn: (address) => this.options.onUpdate?.('withdrawn', address),
    receiptTimeoutMs: () => this.options.receiptTimeoutMs ?? 120_000,
  });
  private readonly redemptions = new Redemptions({
    ledger: () => this.ledger,
    log: () => this.options.log,
    receiptTimeoutMs: () => this.options.receiptTimeoutMs ?? 120_000,
  });
  private busy: Promise<unknown> = Promise.resolve();
  private machine: Promise<MachineFacts> | null = null;

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

  /** Refuses a key copied from another machine (the start's check moves it aside; until then it never signs). */
  private async refuseCopiedKey(address: string): Promise<void> {
    const facts = await this.machineFacts();
    const verdict = compareIdentity(readIdentityRecord(this.home), address, facts);
    if (verdict.kind === 'unrecorded') writeIdentityRecord(this.home, address, facts, 'first-start');
    if (verdict.kind === 'copied') {
      throw new AppError('wallet-copied', `${verdict.reason} The copied key does not unlock here: restart the agent and this machine makes its own identity (the copied keystore is kept aside).`);
    }
  }

  /** Why this data folder's wallet is not the one it was copied with, when it was copied (identity-check.ts); else null. */
  identityNote(): string | null {
    const report = readCopiedReport(this.home);
    if (!report) return null;
    let current: string | null = null;
    try {
      current = this.address();
    } catch {}
    return copiedSentence(report, current);
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
    await this.refuseCopiedKey(readKeystore(this.home).address);
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
    if (change.payoutAddress !== undefined) {
      const own = this.address();
      if (change.payoutAddress !== null && own !== null && getAddress(change.payoutAddress) === own) {
        throw new AppError('invalid-input', `${own} is this machine's own wallet: its earnings go there already when no payout address is set. To clear the payout address, give \`none\`.`);
      }
      setPayout(this.payoutSource(), change.payoutAddress);
    }
    const settings = this.settings();
    if (change.addNetwork) {
      const net = networkSchema.parse(change.addNetwork);
      if (net.name === DEVNET_NETWORK) throw new AppError('invalid-input', `"${DEVNET_NETWORK}" is the built-in local chain; pick another name.`);
      await checkChainId(net.rpcUrl, net.chainId);
      const provider = makeProvider(net.rpcUrl, net.chainId);
      try {
        if ((await provider.getCode(net.escrow)) === '0x') throw new AppError('invalid-input', `There is no contract at the escrow address ${net.escrow} on chain ${net.chainId}.`);
        if ((await provider.getCode(net.token)) === '0x') throw new AppError('invalid-input', `There is no contract at the token address ${net.token} on chain ${net.chainId}.`);
        const token = new Contract(net.token, TOKEN_ABI, provider);
        net.tokenSymbol = (await token.getFunction('symbol')()) as string;
        net.tokenDecimals = Number(await token.getFunction('decimals')());
      } finally {
        provider.destroy();
      }
      settings.networks = [...settings.networks.filter((n) => n.name !== net.name), { ...net, token: getAddress(net.token), escrow: getAddress(net.escrow) }];
    }
    if (change.network !== undefined) {
      if (change.network !== DEVNET_NETWORK && !settings.networks.some((n) => n.name === change.network)) {
        throw new AppError('invalid-input', `There is no network named "${change.network}". Add it first (RPC URL, chain id, token and escrow addresses).`);
      }
      settings.network = change.network;
    }
    if (change.autoRedeemThreshold !== undefined) settings.autoRedeemThreshold = change.autoRedeemThreshold;
    writeWalletSettings(this.home, settings);
    this.options.onUpdate?.('settings', this.address());
    return { ...settings, payout: readPayout(this.payoutSource()) };
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

  private ctx(net: NetworkConfig) {
    return ctxOf(net);
  }

  // ── status ─────────────────────────────────────────────────────────────

  async status(): Promise<WalletStatus> {
    const exists = keystoreExists(this.home);
    let address: string | null = null;
    let chainErrorText: string | null = null;
    if (exists) {
      try {
        address = readKeystore(this.home).address;
      } catch (error) {
        chainErrorText = (error as Error).message;
      }
    }
    const totals = this.ledger.totals();
    const settings = (() => {
      try {
        return this.settings();
      } catch {
        return null;
      }
    })();
    const status: WalletStatus = {
      exists,
      unlocked: this.isUnlocked(),
      address,
      network: null,
      nativeBalance: null,
      tokenBalance: null,
      tokenSymbol: 'OFT',
      tokenDecimals: 18,
      redeemable: totals.redeemable,
      redeemed: totals.redeemed,
      withdrawn: totals.withdrawn,
      autoRedeemThreshold: settings?.autoRedeemThreshold ?? null,
      chainError: chainErrorText,
      identityNote: this.identityNote(),
      payout: readPayout(this.payoutSource()),
    };
    let provider: JsonRpcProvider | undefined;
    try {
      const net = this.network();
      status.network = { name: net.name, chainId: net.chainId, rpcUrl: net.rpcUrl, token: net.token, escrow: net.escrow };
      const c = await this.connect();
      provider = c.provider;
      const token = new Contract(net.token, TOKEN_ABI, provider);
      const [symbol, decimals] = await Promise.all([token.getFunction('symbol')() as Promise<string>, token.getFunction('decimals')() as Promise<bigint>]);
      status.tokenSymbol = symbol;
      status.tokenDecimals = Number(decimals);
      if (address) {
        const [native, balance] = await Promise.all([provider.getBalance(address), token.getFunction('balanceOf')(address) as Promise<bigint>]);
        status.nativeBalance = native.toString();
        status.tokenBalance = balance.toString();
      }
    } catch (error) {
      // A damaged keystore is the first thing to mend: its message stays.
      status.chainError ??= (error instanceof AppError ? error : chainError(error, status.network?.rpcUrl ?? '', 'read the balances')).message;
    } finally {
      provider?.destroy();
    }
    return status;
  }

  // ── vouchers ───────────────────────────────────────────────────────────

  /**
   * Checks a voucher (this network, our address, the buyer's signature, then the escrow: not
   * expired, adding something beyond what its channel was paid, covered by the buyer's deposit)
   * and counts it (nothing is sent). One that fails the escrow's checks is kept as refused
   * evidence, never counted, and the error says why.
   */
  async addVoucher(input: unknown): Promise<StoredVoucher> {
    const signed = parseVoucher(input);
    const net = this.network();
    const address = this.address();
    if (!address) throw new AppError('no-wallet', 'Create or import a wallet before adding vouchers.');
    if (getAddress(signed.voucher.provider) !== address) {
      throw new AppError('voucher-not-ours', `This voucher pays ${getAddress(signed.voucher.provider)}, not this wallet (${address}).`);
    }
    const signer = recoverVoucherSigner(signed, net.chainId, net.escrow);
    if (signer !== getAddress(signed.voucher.buyer)) {
      throw new AppError('voucher-invalid', `The voucher's signature is not the buyer's (it recovers to ${signer}, not ${getAddress(signed.voucher.buyer)}): it was altered, or it is for another escrow or chain (this one is ${net.escrow} on chain ${net.chainId}).`);
    }
    const { provider } = await this.connect();
    try {
      const block = await provider.getBlock('latest');
      const v = signed.voucher;
      const result = await takeVoucher({
        ledger: this.ledger,
        reader: escrowReader(provider, net.escrow),
        nowMs: Math.max(Date.now(), (block?.timestamp ?? 0) * 1000),
        channel: { chainId: net.chainId, escrow: net.escrow, buyer: v.buyer, provider: address, jobId: v.jobId },
        payee: this.payoutAddress(),
        signed,
      });
      if (result.stored) {
        this.options.log.info('voucher stored', { voucherId: result.stored.id, jobId: v.jobId, cumulativeAmount: v.cumulativeAmount });
        return result.stored;
      }
      const refusal = result.refused!;
      // Counted before and paid since: redeeming it again finishes or explains (never pays twice).
      const counted = refusal.kind === 'worthless' ? this.ledger.findVoucher(signed) : undefined;
      if (counted) return counted;
      const [code, next] =
        refusal.kind === 'worthless'
          ? ['already-redeemed', 'It was already redeemed: it pays nothing more.']
          : refusal.kind === 'expired'
            ? ['voucher-expired', 'Ask the buyer for a new one.']
            : refusal.kind === 'chain-unreadable'
              ? ['rpc-unreachable', 'Nothing was counted; try again when the chain answers.']
              : ['voucher-refused', 'Nothing was counted (it is kept as refused evidence); ask the buyer for a valid voucher.'];
      throw new AppError(code, `This voucher was not counted: ${refusal.why}. ${next}`);
    } finally {
      provider.destroy();
    }
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

  private async redeemStored(ids: number[] | undefined, throwOnError: boolean): Promise<RedeemResult[]> {
    const signer = this.requireSigner();
    return this.serial(async () => {
      const { net, provider } = await this.connect();
      try {
        const vouchers = ids
          ? ids.map((id) => {
              const v = this.ledger.voucher(id);
              if (!v) throw new AppError('not-found', `There is no stored voucher ${id}.`);
              return v;
            })
          : this.bestPerJob(this.ledger.redeemableVouchers(this.ctx(net)));
        const results: RedeemResult[] = [];
        for (const v of vouchers) {
          try {
            results.push(await this.redemptions.redeemOne(v, net, provider, signer.connect(provider)));
          } catch (error) {
            const e = chainError(error, net.rpcUrl, 'redeem the voucher');
            if (throwOnError) throw e;
            results.push({ voucherId: v.id, jobId: v.voucher.jobId, txHash: null, paid: '0', outcome: e.code === 'already-redeemed' ? 'already-redeemed' : 'failed', error: e.message });
          }
        }
        if (results.some((r) => r.outcome === 'ok')) this.options.onUpdate?.('redeemed', signer.address);
        return results;
      } finally {
        provider.destroy();
      }
    });
  }

  /** Of several redeemable vouchers for one job, only the highest needs sending. */
  private bestPerJob(vouchers: StoredVoucher[]): StoredVoucher[] {
    const best = new Map<string, StoredVoucher>();
    for (const v of vouchers) {
      const key = `${v.voucher.buyer}/${v.voucher.jobId}`;
      const current = best.get(key);
      if (!current || BigInt(v.voucher.cumulativeAmount) > BigInt(current.voucher.cumulativeAmount)) best.set(key, v);
    }
    return [...best.values()];
  }

  // ── reconciliation ─────────────────────────────────────────────────────

  /**
   * Reads the escrow's `Redeemed` events paying this wallet since the last synced block (or
   * from the escrow's first block when `full`), and records any the ledger lacks.
   */
  async reconcile(options: { full?: boolean } = {}): Promise<{ added: number; toBlock: number }> {
    const address = this.address();
    if (!address) return { added: 0, toBlock: 0 };
    const { net, provider } = await this.connect();
    try {
      const result = await this.redemptions.reconcileWith(net, provider, address, options.full);
      if (result.added > 0) this.options.onUpdate?.('reconciled', address);
      return result;
    } catch (error) {
      throw chainError(error, net.rpcUrl, 'read the escrow payments');
    } finally {
      provider.destroy();
    }
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
