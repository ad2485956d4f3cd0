/** What the wallet service's parts (service-status.ts, service-vouchers.ts, service-settings.ts) need from it (service.ts). */
import type { JsonRpcProvider } from 'ethers';
import type { Ledger } from '../ledger/ledger.js';
import type { Logger } from '../log.js';
import type { Signer } from './keystore.js';
import type { PayoutSource } from './payout.js';
import type { Redemptions } from './redemptions.js';
import type { NetworkConfig, WalletSettings } from './schema.js';

export interface WalletDeps {
  home(): string;
  ledger(): Ledger;
  log(): Logger;
  address(): string | null;
  isUnlocked(): boolean;
  settings(): WalletSettings;
  network(): NetworkConfig;
  connect(): Promise<{ net: NetworkConfig; provider: JsonRpcProvider }>;
  identityNote(): string | null;
  payoutSource(): PayoutSource;
  payoutAddress(): string | null;
  requireSigner(): Signer;
  /** One chain-writing operation at a time. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  redemptions(): Redemptions;
  /** The owner's listener, when there is one (called as `onUpdate()?.(…)`, so its arguments are read only then). */
  onUpdate(): ((reason: 'redeemed' | 'reconciled' | 'settings', address: string | null) => void) | undefined;
  /** How long to wait for a transaction's receipt. */
  receiptTimeoutMs(): number;
}
