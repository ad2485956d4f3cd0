/** The payout address setting: the user's settings file under the admin policy, which locks it when mandatory. */
import fs from 'node:fs';
import path from 'node:path';
import { Wallet } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../runtime/policy/load.js';
import type { LoadedPolicy } from '../../../runtime/policy/schema.js';
import { openSettingsStore } from '../../../runtime/settings/store.js';
import { payoutAddressOrThrow, readPayout, setPayout } from '../../../runtime/wallet/payout.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const homes: { cleanup(): void }[] = [];
afterEach(() => homes.splice(0).forEach((h) => h.cleanup()));

function source(policy: LoadedPolicy = { state: 'none', file: '/etc/offshift/policy.json' }) {
  const temp = makeTempHome('offshift-payout-');
  homes.push(temp);
  let current = policy;
  return { home: temp.home, src: { store: openSettingsStore(temp.home), policy: () => current }, setPolicy: (p: LoadedPolicy) => (current = p) };
}

describe('the payout address setting', () => {
  it('is none by default; set, it is kept checksummed in settings.json; `none` clears it', () => {
    const { home, src } = source();
    expect(readPayout(src)).toEqual({ address: null, locked: false, problem: null });
    const address = Wallet.createRandom().address;
    expect(setPayout(src, address.toLowerCase())).toEqual({ address, locked: false, problem: null });
    expect(JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8')).payout).toEqual({ address });
    expect(payoutAddressOrThrow(src)).toBe(address);
    expect(setPayout(src, null).address).toBeNull();
    // A typo in a checksummed address is caught, not stored.
    const typo = address.slice(0, 2) + [...address.slice(2)].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
    if (/[a-f]/.test(address.slice(2)) && /[A-F]/.test(address.slice(2))) expect(() => setPayout(src, typo)).toThrow(/does not match its checksum/);
    expect(readPayout(src).address).toBeNull();
  });

  it("an administrator's mandatory payout address wins, is locked, and a change is refused naming the policy", () => {
    const room = Wallet.createRandom().address;
    const { src, setPolicy } = source();
    setPayout(src, Wallet.createRandom().address);
    setPolicy(parsePolicy(JSON.stringify({ mandatory: { payout: { address: room } } }), '/etc/offshift/policy.json'));
    expect(readPayout(src)).toEqual({ address: room, locked: true, problem: null });
    expect(() => setPayout(src, null)).toThrow(/payout\.address is set by your administrator \(\/etc\/offshift\/policy\.json\)/);
    expect(() => setPayout(src, Wallet.createRandom().address)).toThrow(/set by your administrator/);
    // Sending the locked value unchanged is fine.
    expect(setPayout(src, room).address).toBe(room);
  });

  it('a bad value in the settings file is said, and no payout address is assumed', () => {
    const { home, src } = source();
    fs.writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ payout: { address: 'my team wallet' } }));
    src.store.refreshIfChanged();
    const view = readPayout(src);
    expect(view.address).toBeNull();
    expect(view.problem).toMatch(/payout\.address/);
    expect(() => payoutAddressOrThrow(src)).toThrow(/The payout address cannot be read: .*offshift wallet settings --payout-address/);
  });
});
