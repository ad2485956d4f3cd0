import { describe, expect, it } from 'vitest';
import { CAP_NET_ADMIN, CAP_NET_RAW, effectiveCapabilities, hasEffectiveCapability } from '../../../runtime/sandbox/capabilities.js';

// Real /proc/self/status captures (Linux 6.x, the capability lines with their neighbours).
const ROOT = 'Seccomp:\t0\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\n';
// `setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_admin --ambient-caps=+net_admin`
const NOBODY_NET_ADMIN = 'Groups:\t\nCapInh:\t0000000000001000\nCapPrm:\t0000000000001000\nCapEff:\t0000000000001000\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000001000\n';
// The same user with no capability: CapBnd still lists them all, CapEff none.
const NOBODY = 'Uid:\t65534\t65534\t65534\t65534\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n';
// The service's user (AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW): bits 12 and 13.
const SERVICE = 'CapInh:\t0000000000003000\nCapPrm:\t0000000000003000\nCapEff:\t0000000000003000\nCapBnd:\t0000000000003000\nCapAmb:\t0000000000003000\n';

describe('effective capabilities from /proc/<pid>/status', () => {
  it('reads the CapEff mask, not the bounding, permitted or ambient ones', () => {
    expect(effectiveCapabilities(ROOT)).toBe(0x1fffeffffffn);
    expect(effectiveCapabilities(NOBODY)).toBe(0n);
    expect(hasEffectiveCapability(NOBODY, CAP_NET_ADMIN)).toBe(false); // CapBnd has it: not enough
  });

  it('finds CAP_NET_ADMIN (bit 12) for root, for a user granted it ambiently, and for the service', () => {
    expect(hasEffectiveCapability(ROOT, CAP_NET_ADMIN)).toBe(true);
    expect(hasEffectiveCapability(NOBODY_NET_ADMIN, CAP_NET_ADMIN)).toBe(true);
    expect(hasEffectiveCapability(NOBODY_NET_ADMIN, CAP_NET_RAW)).toBe(false);
    expect(hasEffectiveCapability(SERVICE, CAP_NET_ADMIN)).toBe(true);
    expect(hasEffectiveCapability(SERVICE, CAP_NET_RAW)).toBe(true);
  });

  it('a status without a well-formed CapEff line grants nothing', () => {
    for (const bad of ['', 'CapEff:\n', 'CapEff:\tzz\n', 'CapPrm:\t0000000000001000\n', 'XCapEff:\t0000000000001000\n', 'CapEff:\t00000000000010000\n']) {
      expect(effectiveCapabilities(bad), JSON.stringify(bad)).toBeNull();
      expect(hasEffectiveCapability(bad, CAP_NET_ADMIN)).toBe(false);
    }
  });
});
