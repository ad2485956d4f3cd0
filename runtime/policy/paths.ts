import path from 'node:path';

/** Where an administrator puts the policy file. `OFFSHIFT_POLICY_FILE` overrides. */
export function policyFilePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.OFFSHIFT_POLICY_FILE) return path.resolve(env.OFFSHIFT_POLICY_FILE);
  if (platform === 'win32') return path.win32.join(env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData', 'Offshift', 'policy.json');
  if (platform === 'darwin') return '/Library/Application Support/Offshift/policy.json';
  return '/etc/offshift/policy.json';
}
