/** Checks a change to the market settings before it is saved: the admin's locks and the URL. Pure. */
import { AppError } from '../errors.js';
import type { LoadedPolicy } from '../policy/schema.js';
import type { Effective } from '../settings/effective.js';
import { isLocked, leafPaths } from '../settings/merge.js';
import { checkMarketUrl } from './connection.js';
import { defaultMarketSettings, type MarketPatch } from './settings.js';

export function checkMarketPatch(patch: MarketPatch, current: Effective<'market'>, policy: LoadedPolicy): void {
  if (policy.state === 'invalid') throw new AppError('policy-invalid', 'The admin policy file is invalid; settings cannot be changed until it is fixed.');
  const value = current.ok ? current.value : defaultMarketSettings;
  for (const p of leafPaths(patch)) {
    if (!isLocked(`market.${p}`, current.locked)) continue;
    const key = p.split('.')[0] as keyof MarketPatch;
    if (JSON.stringify(patch[key]) === JSON.stringify(value[key])) continue;
    throw new AppError('locked-by-policy', `market.${p} is set by your administrator (${policy.file}) and cannot be changed here. Ask your administrator to change the policy.`);
  }
  if (patch.url) {
    const checked = checkMarketUrl(patch.url, patch.allowInsecure ?? value.allowInsecure);
    if (!checked.ok) throw new AppError('invalid-input', checked.reason);
  }
}
