/**
 * The plain values messages are built of, shared by the protocol and the agent's own contract:
 * addresses and amounts, the payment voucher, a pinned image reference, a job's network
 * allow-list. Pure zod. Amounts on the wire are decimal strings of base units, never JS numbers.
 */
import { z } from 'zod';

export const baseUnitsSchema = z.string().regex(/^(0|[1-9][0-9]*)$/, 'an amount is a decimal string of base units (digits only)');
export const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an address is 0x and 40 hex digits');
export const bytes32Schema = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'a job id is 0x and 64 hex digits');

/**
 * The voucher file: `{ "voucher": {…}, "signature": "0x…" }`. With `payee` (revision 3) it is
 * the escrow's `PayeeVoucher`, whose money goes to that address whoever redeems it (a studio's
 * payout address); without, the v1 `Voucher`, paid to the provider.
 */
export const voucherSchema = z
  .object({
    buyer: addressSchema,
    provider: addressSchema,
    payee: addressSchema.optional(),
    jobId: bytes32Schema,
    cumulativeAmount: baseUnitsSchema,
    expiry: z.number().int().nonnegative().max(2 ** 53 - 1),
  })
  .strict();
export const signedVoucherSchema = z
  .object({
    voucher: voucherSchema,
    signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a signature is 0x and 130 hex digits (65 bytes)'),
  })
  .strict();
export type VoucherData = z.infer<typeof voucherSchema>;
export type SignedVoucher = z.infer<typeof signedVoucherSchema>;

/** `repo@sha256:<64 hex>`: pulled, then its digest verified. */
export const DIGEST_REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*@sha256:[0-9a-f]{64}$/;
/** `sha256:<64 hex>`: a local image id, already present (development). */
export const LOCAL_ID = /^sha256:[0-9a-f]{64}$/;

/** How many destinations a job's network allow-list may name. */
export const MAX_ALLOWED_HOSTS = 64;
/** host or host:port (port 1 to 65535), lower-case DNS name or IPv4, no scheme, no path. */
const HOST_PORT = /^(?=.{1,253}(?::\d{1,5})?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}))?$/;

/** A job's network: none, or an allow-list of destinations. */
export const networkSchema = z.union([
  z.literal('none'),
  z
    .object({
      allow: z
        .array(z.string().regex(HOST_PORT, 'each allowed destination is host or host:port, the port 1 to 65535 (no scheme, no path)'))
        .min(1, 'an allow-list needs at least one host')
        .max(MAX_ALLOWED_HOSTS, `at most ${MAX_ALLOWED_HOSTS} destinations`),
    })
    .strict(),
]);
export type JobNetwork = z.infer<typeof networkSchema>;
