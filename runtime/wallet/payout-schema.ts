/**
 * The payout address (the settings file's `payout` section, lockable by the admin policy): where
 * this machine's earnings go. The machine's key still signs in and signs its reports; vouchers
 * name this address as their payee and the escrow pays it whoever redeems them, so the machine
 * cannot spend what it earned (a team wallet, a hardware wallet, a multisig). Pure zod.
 *
 * Default: none (the earnings go to this machine's own wallet, as for a gamer's single card).
 */
import { z } from 'zod';
import { addressSchema } from '../../protocol/values.js';

export const payoutSettingsSchema = z
  .object({
    /** Where vouchers must pay; null: this machine's wallet. */
    address: addressSchema.nullable(),
  })
  .strict();
export type PayoutSettings = z.infer<typeof payoutSettingsSchema>;
export const payoutPatchSchema = payoutSettingsSchema.partial().strict();
export const defaultPayoutSettings: PayoutSettings = { address: null };

/** What `wallet.settings` shows of it. */
export const payoutViewSchema = z.object({
  /** The payout address in force (checksummed), or null: earnings go to this machine's wallet. */
  address: addressSchema.nullable(),
  /** Set by the administrator's policy: it cannot be changed here. */
  locked: z.boolean(),
  /** Why the setting cannot be read (a bad value in the settings file), else null. */
  problem: z.string().nullable(),
});
export type PayoutView = z.infer<typeof payoutViewSchema>;
