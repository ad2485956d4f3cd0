/**
 * Reading and changing the payout address (payout-schema.ts): the user's settings file under
 * the admin policy's `payout` layer, which locks it when mandatory.
 */
import { getAddress } from 'ethers';
import { AppError } from '../errors.js';
import type { LoadedPolicy } from '../policy/schema.js';
import { checkSectionPatch } from '../settings/check-patch.js';
import { effectiveSection } from '../settings/effective.js';
import type { SettingsStore } from '../settings/store.js';
import { defaultPayoutSettings, type PayoutView } from './payout-schema.js';

export interface PayoutSource {
  store: SettingsStore;
  policy: () => LoadedPolicy;
}

export function readPayout(src: PayoutSource): PayoutView {
  src.store.refreshIfChanged();
  const section = src.store.section('payout');
  const e = effectiveSection('payout', section.patch, src.policy());
  const locked = e.locked.includes('payout.address');
  if (!e.ok) return { address: null, locked, problem: e.message };
  return { address: e.value.address === null ? null : getAddress(e.value.address), locked, problem: section.problem };
}

/** The address vouchers must name: the payout address, or null (this wallet). A setting that cannot be read pays nothing until mended. */
export function payoutAddressOrThrow(src: PayoutSource): string | null {
  const view = readPayout(src);
  if (view.problem && view.address === null) throw new AppError('settings-invalid', `The payout address cannot be read: ${view.problem}. Fix it with \`offshift wallet settings --payout-address ADDRESS|none\`.`);
  return view.address;
}

/** Sets (or, with null, clears) the payout address; refused when the administrator set it. */
export function setPayout(src: PayoutSource, address: string | null): PayoutView {
  const patch = { address: address === null ? null : checksummed(address) };
  const policy = src.policy();
  const e = effectiveSection('payout', src.store.section('payout').patch, policy);
  checkSectionPatch('payout', patch, e.ok ? e.value : defaultPayoutSettings, e, policy);
  src.store.update('payout', patch);
  return readPayout(src);
}

function checksummed(address: string): string {
  try {
    return getAddress(address);
  } catch {
    throw new AppError('invalid-input', `The payout address ${address} is not a valid address: its mixed case does not match its checksum (a typo?). Check it, or write it all in lower case.`);
  }
}
