/**
 * The payout addition to protocol v1 (revision 3; issue 17, studios): a provider may name a
 * payout address, and the vouchers for its jobs must then pay that address (the escrow's
 * `PayeeVoucher`) rather than the provider's own key.
 *
 * - The provider advertises `payee` (its payout address) in its advertisement.
 * - The market offers such a provider only jobs whose buyer speaks revision 3 (an older buyer
 *   would sign vouchers paying the provider's key, which the provider refuses), records the payee
 *   when the offer is accepted, and names it in the `job-update` that tells the buyer.
 * - The buyer signs every voucher of that attempt with `payee` set.
 *
 * A peer that lists only revisions 1 and 2 never sees any of it (docs/protocol.md, "Revisions").
 */
export const PAYEE_REVISION = 3;
