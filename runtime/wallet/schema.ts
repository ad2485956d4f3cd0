/**
 * Wallet payloads of the API contract (pure zod: the renderer type-checks against them).
 * Amounts on the wire are decimal strings of the token's base units, never JS numbers.
 */
import { z } from 'zod';
import { addressSchema, baseUnitsSchema, bytes32Schema, signedVoucherSchema } from '../../protocol/values.js';
import { payoutViewSchema } from './payout-schema.js';

// The values the marketplace protocol shares live with it; the wallet's contract uses them too.
export { addressSchema, baseUnitsSchema, bytes32Schema, signedVoucherSchema, voucherSchema, type SignedVoucher, type VoucherData } from '../../protocol/values.js';
export const txHashSchema = bytes32Schema;

export const networkSchema = z
  .object({
    name: z.string().min(1).max(64),
    rpcUrl: z.string().url(),
    chainId: z.number().int().positive(),
    token: addressSchema,
    escrow: addressSchema,
    /** Block to start scanning `Redeemed` events from (the escrow's deployment block). */
    fromBlock: z.number().int().nonnegative().default(0),
    tokenSymbol: z.string().max(16).default('OFT'),
    tokenDecimals: z.number().int().min(0).max(36).default(18),
  })
  .strict();
export type NetworkConfig = z.infer<typeof networkSchema>;
export type NetworkInput = z.input<typeof networkSchema>;

/** The `wallet` section of the settings file (runtime/settings). */
export const walletSettingsSchema = z
  .object({
    /** The network in use; `devnet` is the local chain started by `offshift devnet up`. */
    network: z.string().min(1),
    /** Networks the owner added (the local chain is built in). */
    networks: z.array(networkSchema),
    /** Redeem automatically once what is redeemable reaches this many base units; null = never. */
    autoRedeemThreshold: baseUnitsSchema.nullable(),
  })
  .strict();
export type WalletSettings = z.infer<typeof walletSettingsSchema>;
export const walletSettingsPatchSchema = walletSettingsSchema.partial();
export const defaultWalletSettings: WalletSettings = { network: 'devnet', networks: [], autoRedeemThreshold: null };
export const DEVNET_NETWORK = 'devnet';

export const walletStatusSchema = z.object({
  exists: z.boolean(),
  unlocked: z.boolean(),
  address: addressSchema.nullable(),
  network: z.object({ name: z.string(), chainId: z.number().int(), rpcUrl: z.string(), token: z.string(), escrow: z.string() }).nullable(),
  /** Null when the chain cannot be reached; `chainError` says why. */
  nativeBalance: baseUnitsSchema.nullable(),
  tokenBalance: baseUnitsSchema.nullable(),
  tokenSymbol: z.string(),
  tokenDecimals: z.number().int(),
  redeemable: baseUnitsSchema,
  redeemed: baseUnitsSchema,
  withdrawn: baseUnitsSchema,
  autoRedeemThreshold: baseUnitsSchema.nullable(),
  chainError: z.string().nullable(),
  /** Why this machine's wallet is not the one its data folder was copied with (a cloned disk), else null. */
  identityNote: z.string().nullable().optional(),
  /** Where redeemed earnings go (the payout address), and whether the administrator set it. */
  payout: payoutViewSchema.optional(),
});
export type WalletStatus = z.infer<typeof walletStatusSchema>;

const password = z.string().min(1, 'a password is required');

export const walletCreateInput = z.object({ password: password.min(8, 'use a password of at least 8 characters') }).strict();
export const walletCreateOutput = z.object({ address: addressSchema, mnemonic: z.string() });
export const walletImportInput = z
  .object({ password: password.min(8, 'use a password of at least 8 characters'), mnemonic: z.string().optional(), privateKey: z.string().optional() })
  .strict()
  .refine((v) => (v.mnemonic === undefined) !== (v.privateKey === undefined), 'give either a mnemonic or a private key');
export const walletAddressOutput = z.object({ address: addressSchema });
export const walletUnlockInput = z.object({ password }).strict();
export const walletExportInput = z.object({ password }).strict();
export const walletExportOutput = z.object({ address: addressSchema, privateKey: z.string(), mnemonic: z.string().nullable() });

export const walletRedeemInput = z
  .object({
    /** A voucher file's content, or the ids of stored vouchers (omit both: every redeemable one). */
    voucher: signedVoucherSchema.optional(),
    voucherIds: z.array(z.number().int().positive()).optional(),
  })
  .strict();
export const redeemResultSchema = z.object({
  voucherId: z.number().int(),
  jobId: bytes32Schema,
  txHash: txHashSchema.nullable(),
  paid: baseUnitsSchema,
  /** ok: paid now; already-redeemed: paid earlier (txHash of that payment when known); failed: see error. */
  outcome: z.enum(['ok', 'already-redeemed', 'failed']),
  error: z.string().nullable(),
});
export type RedeemResult = z.infer<typeof redeemResultSchema>;
export const walletRedeemOutput = z.object({ results: z.array(redeemResultSchema) });

export const walletAddVoucherInput = z.object({ voucher: signedVoucherSchema }).strict();
export const walletAddVoucherOutput = z.object({ voucherId: z.number().int(), status: z.string() });

export const withdrawInput = z.object({ to: z.string(), amount: baseUnitsSchema }).strict();
export const prepareWithdrawOutput = z.object({
  /** Pass back to wallet.withdraw to confirm. */
  quoteId: z.string(),
  to: addressSchema,
  amount: baseUnitsSchema,
  gasLimit: baseUnitsSchema,
  maxFeePerGas: baseUnitsSchema,
  /** Most the transaction can cost in the native coin (gasLimit × maxFeePerGas), base units. */
  maxFee: baseUnitsSchema,
  nativeBalance: baseUnitsSchema,
  expiresAt: z.number().int(),
});
export const walletWithdrawInput = z.object({ quoteId: z.string() }).strict();
export const walletWithdrawOutput = z.object({ txHash: txHashSchema, amount: baseUnitsSchema, to: addressSchema, blockNumber: z.number().int() });

export const walletSettingsInput = z
  .object({
    autoRedeemThreshold: baseUnitsSchema.nullable().optional(),
    network: z.string().optional(),
    addNetwork: networkSchema.optional(),
    /** Where earnings go (payout-schema.ts); null: this machine's wallet. Refused when the administrator set it. */
    payoutAddress: addressSchema.nullable().optional(),
  })
  .strict();
export const walletSettingsOutput = z.object({
  network: z.string(),
  networks: z.array(networkSchema),
  autoRedeemThreshold: baseUnitsSchema.nullable(),
  payout: payoutViewSchema,
});
export type WalletSettingsView = z.infer<typeof walletSettingsOutput>;

export const walletUpdateEvent = z.object({
  reason: z.enum(['created', 'imported', 'unlocked', 'locked', 'redeemed', 'withdrawn', 'reconciled', 'settings']),
  address: addressSchema.nullable(),
});

export const walletLockOutput = z.object({ locked: z.literal(true) });
export const walletReconcileInput = z.object({ full: z.boolean().optional() }).strict();
export const walletReconcileOutput = z.object({ added: z.number().int(), toBlock: z.number().int() });
