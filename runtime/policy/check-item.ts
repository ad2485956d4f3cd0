import type { CheckItem } from '../system/schema.js';
import { describePolicy } from './load.js';
import type { LoadedPolicy } from './schema.js';

/**
 * The system check's line about the admin policy: fail when it is malformed (the agent then
 * runs no work), pass otherwise. runSystemCheck adds it.
 */
export function policyCheckItem(policy: LoadedPolicy): CheckItem {
  const base = { id: 'admin-policy', title: 'Administrator policy', detail: policy.file };
  return { ...base, status: policy.state === 'invalid' ? 'fail' : 'pass', message: describePolicy(policy) };
}
