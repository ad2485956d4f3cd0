/**
 * The policy version an agent applies, for its status and metrics: the signed document's
 * version, or the local file's own `version`; null without a policy or without a version. Pure.
 */
import type { LoadedPolicy } from './schema.js';

export function appliedPolicyVersion(policy: LoadedPolicy): number | null {
  return policy.state === 'ok' ? (policy.version ?? null) : null;
}
