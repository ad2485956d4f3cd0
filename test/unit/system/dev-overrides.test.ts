import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { policyFilePath } from '../../../runtime/policy/paths.js';
import { ignoredDevOverrides, overridesAllowed, runsFromCheckout, scryptNOverride } from '../../../runtime/system/dev-overrides.js';
import { createKeystore } from '../../../runtime/wallet/keystore.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const temps: { home: string; cleanup: () => void }[] = [];
afterEach(() => temps.splice(0).forEach((t) => t.cleanup()));

describe('escape hatches honoured in tests and development only', () => {
  it('the rule: a source checkout, and NODE_ENV not production', () => {
    expect(overridesAllowed({}, true)).toBe(true);
    expect(overridesAllowed({ NODE_ENV: 'production' }, true)).toBe(false);
    expect(overridesAllowed({ NODE_ENV: 'test' }, false)).toBe(false); // NODE_ENV cannot turn them on in an installed app
  });

  it('tells a checkout from an installed package (no .git) by looking up from the code', () => {
    expect(runsFromCheckout()).toBe(true); // these tests run from the repository
    const t = makeTempHome();
    temps.push(t);
    const installed = path.join(t.home, 'resources', 'app.asar', 'dist', 'runtime');
    fs.mkdirSync(installed, { recursive: true });
    fs.writeFileSync(path.join(t.home, 'resources', 'app.asar', 'package.json'), JSON.stringify({ name: 'offshift' }));
    expect(runsFromCheckout(installed)).toBe(false);
    fs.mkdirSync(path.join(t.home, 'resources', 'app.asar', '.git'));
    expect(runsFromCheckout(installed)).toBe(true);
  });

  it('OFFSHIFT_POLICY_FILE: the admin\'s path in an installed app, the override in a checkout; the ignored one is named for the log', () => {
    const env = { OFFSHIFT_POLICY_FILE: '/tmp/my-own-policy.json' };
    expect(policyFilePath(env, 'linux', false)).toBe('/etc/offshift/policy.json');
    expect(policyFilePath(env, 'linux', true)).toBe('/tmp/my-own-policy.json');
    expect(ignoredDevOverrides(env, false)).toEqual(['OFFSHIFT_POLICY_FILE']);
    expect(ignoredDevOverrides(env, true)).toEqual([]);
  });

  it('OFFSHIFT_KEYSTORE_SCRYPT_N: ignored in an installed app; in tests only a power of two of at least 2^10', () => {
    expect(scryptNOverride({ OFFSHIFT_KEYSTORE_SCRYPT_N: '2' }, false)).toBeUndefined();
    expect(scryptNOverride({ OFFSHIFT_KEYSTORE_SCRYPT_N: '1024' }, true)).toBe(1024);
    for (const bad of ['2', '512', '1000', 'abc', '-1024', '1e400']) {
      expect(() => scryptNOverride({ OFFSHIFT_KEYSTORE_SCRYPT_N: bad }, true), bad).toThrow(/power of two of at least 1024/);
    }
    expect(scryptNOverride({}, true)).toBeUndefined();
  });

  it('the keystore itself refuses a scrypt N below 2^10, whoever passes it', async () => {
    const t = makeTempHome();
    temps.push(t);
    await expect(createKeystore(t.home, 'password1', { scryptN: 2 })).rejects.toThrow(/scrypt N 2 is refused/);
    expect(fs.existsSync(path.join(t.home, 'wallet'))).toBe(false);
  });
});
