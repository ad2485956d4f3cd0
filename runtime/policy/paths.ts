import path from 'node:path';
import { devOverridesAllowed } from '../system/dev-overrides.js';

/**
 * Where an administrator puts the policy file. `OFFSHIFT_POLICY_FILE` overrides it in tests and
 * development only (runtime/system/dev-overrides.ts): never in an installed app.
 */
export function policyFilePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, allowOverride = devOverridesAllowed(env)): string {
  if (env.OFFSHIFT_POLICY_FILE && allowOverride) return path.resolve(env.OFFSHIFT_POLICY_FILE);
  if (platform === 'win32') return path.win32.join(env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData', 'Offshift', 'policy.json');
  if (platform === 'darwin') return '/Library/Application Support/Offshift/policy.json';
  return '/etc/offshift/policy.json';
}
