/**
 * Escape hatches for tests and development only. `OFFSHIFT_POLICY_FILE` (another admin policy
 * file) and `OFFSHIFT_KEYSTORE_SCRYPT_N` (a cheaper keystore) would undo the administrator's and
 * the owner's protection in an installed app, so they are honoured only when the code runs from
 * a source checkout (a `.git` beside Offshift's package.json) and `NODE_ENV` is not
 * `production`. A packaged app (app.asar) or an installed package has no `.git`: there they are
 * ignored, and the agent logs that it ignored them. docs/reliability.md states the rule.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';

export const DEV_OVERRIDES = ['OFFSHIFT_POLICY_FILE', 'OFFSHIFT_KEYSTORE_SCRYPT_N'] as const;
/** The cheapest keystore a test may ask for: 2^10 (ethers' default is 2^17). */
export const MIN_TEST_SCRYPT_N = 1024;

let checkout: boolean | null = null;

/** Whether this code runs from a source checkout: Offshift's package.json with a `.git` beside it. */
export function runsFromCheckout(start: string = path.dirname(fileURLToPath(import.meta.url))): boolean {
  let dir = start;
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'offshift') return fs.existsSync(path.join(dir, '.git'));
    } catch {
      // No package.json here: look further up.
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return false;
}

/** Pure: the rule, from the environment and where the code runs. */
export function overridesAllowed(env: NodeJS.ProcessEnv, fromCheckout: boolean): boolean {
  return fromCheckout && env.NODE_ENV !== 'production';
}

export function devOverridesAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  checkout ??= runsFromCheckout();
  return overridesAllowed(env, checkout);
}

/** The overrides set in `env` that this build ignores: for a warning in the log at start. */
export function ignoredDevOverrides(env: NodeJS.ProcessEnv = process.env, allowed = devOverridesAllowed(env)): string[] {
  return allowed ? [] : DEV_OVERRIDES.filter((name) => env[name] !== undefined && env[name] !== '');
}

/** OFFSHIFT_KEYSTORE_SCRYPT_N where honoured: a power of two of at least 2^10, else a usage error. */
export function scryptNOverride(env: NodeJS.ProcessEnv = process.env, allowed = devOverridesAllowed(env)): number | undefined {
  const raw = env.OFFSHIFT_KEYSTORE_SCRYPT_N;
  if (raw === undefined || raw === '' || !allowed) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < MIN_TEST_SCRYPT_N || (n & (n - 1)) !== 0) {
    throw new AppError('usage', `OFFSHIFT_KEYSTORE_SCRYPT_N must be a power of two of at least ${MIN_TEST_SCRYPT_N} (it is for tests only), not "${raw}".`);
  }
  return n;
}
