/** The pure checks of a served policy: canonical JSON, the signature against the pinned signer, version order. */
import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../runtime/policy/canonical.js';
import type { SignedPolicyBody } from '../../../runtime/policy/schema.js';
import { verifySignedPolicy } from '../../../runtime/policy/signed.js';

const admin = new Wallet('0x' + '11'.repeat(32));
const stranger = new Wallet('0x' + '22'.repeat(32));
const body = (version: number, extra: Partial<SignedPolicyBody> = {}): SignedPolicyBody => ({
  version,
  issuedAt: '2026-12-05T10:00:00Z',
  mandatory: { schedule: { idle: { minutes: 15 } } },
  ...extra,
});
const sign = async (policy: unknown, by = admin) => ({ policy, signature: await by.signMessage(canonicalJson(policy)) });

describe('canonical JSON', () => {
  it('sorts keys at every depth, keeps array order, no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });
  it('strings and numbers as JSON writes them', () => {
    expect(canonicalJson({ s: 'é"\n', n: 1.5, t: true, z: null, e: 1e21 })).toBe('{"e":1e+21,"n":1.5,"s":"é\\"\\n","t":true,"z":null}');
  });
  it('refuses what JSON cannot carry instead of dropping it', () => {
    expect(() => canonicalJson({ a: undefined })).toThrow(/undefined/);
    expect(() => canonicalJson({ a: NaN })).toThrow(/NaN/);
    expect(() => canonicalJson([Infinity])).toThrow(/Infinity/);
  });
});

describe('signature', () => {
  it('a document signed by the pinned signer is applied (address compared in any case)', async () => {
    const doc = await sign(body(3));
    expect(verifySignedPolicy(doc, admin.address, null)).toEqual({ ok: true, body: body(3), same: false });
    expect(verifySignedPolicy(doc, admin.address.toLowerCase(), null).ok).toBe(true);
    // Key order in the served JSON does not matter: the canonical form is signed.
    const reordered = { signature: doc.signature, policy: JSON.parse(JSON.stringify({ mandatory: body(3).mandatory, issuedAt: body(3).issuedAt, version: 3 })) };
    expect(verifySignedPolicy(reordered, admin.address, null).ok).toBe(true);
  });
  it('unsigned, signed by another key, tampered, or a bad signature: refused, saying what to do', async () => {
    expect(verifySignedPolicy(body(3), admin.address, null)).toEqual({ ok: false, version: 3, why: expect.stringMatching(/not signed.*pinned signer/) });
    expect(verifySignedPolicy(await sign(body(3), stranger), admin.address, null)).toEqual({
      ok: false,
      version: 3,
      why: `signed by ${stranger.address}, not by the pinned signer ${admin.address}: sign with the pinned key, or change "source.signer" in the local policy file`,
    });
    const doc = await sign(body(3));
    const tampered = { ...doc, policy: { ...body(3), mandatory: { schedule: { mode: 'always' } } } };
    expect(verifySignedPolicy(tampered, admin.address, null)).toMatchObject({ ok: false, why: expect.stringMatching(/^signed by 0x.*not by the pinned signer/) });
    expect(verifySignedPolicy({ ...doc, signature: '0x' + '00'.repeat(65) }, admin.address, null)).toMatchObject({ ok: false, why: expect.stringMatching(/signature cannot be read/) });
    expect(verifySignedPolicy({ ...doc, signature: '0x12' }, admin.address, null)).toMatchObject({ ok: false, why: expect.stringMatching(/malformed.*signature/) });
    expect(verifySignedPolicy([], admin.address, null)).toMatchObject({ ok: false, version: null, why: expect.stringMatching(/not a JSON object/) });
  });
  it('a well-signed but malformed policy is refused, naming the field', async () => {
    expect(verifySignedPolicy(await sign({ ...body(3), mandatory: { schedul: {} } }), admin.address, null)).toMatchObject({ ok: false, why: expect.stringMatching(/policy\.mandatory.*schedul/) });
    expect(verifySignedPolicy(await sign({ mandatory: {}, issuedAt: '2026-12-05T10:00:00Z' }), admin.address, null)).toMatchObject({ ok: false, why: expect.stringMatching(/policy\.version/) });
    expect(verifySignedPolicy(await sign({ ...body(3), source: { url: 'https://evil', signer: stranger.address } }), admin.address, null)).toMatchObject({ ok: false, why: expect.stringMatching(/source/) });
    expect(verifySignedPolicy(await sign({ ...body(3), pauseUntil: 'tomorrow' }), admin.address, null)).toMatchObject({ ok: false, why: expect.stringMatching(/policy\.pauseUntil/) });
  });
});

describe('version order', () => {
  it('higher applies, lower is refused, equal must be the same policy', async () => {
    const applied = body(5);
    expect(verifySignedPolicy(await sign(body(6)), admin.address, applied)).toMatchObject({ ok: true, same: false, body: { version: 6 } });
    expect(verifySignedPolicy(await sign(body(4)), admin.address, applied)).toEqual({
      ok: false,
      version: 4,
      why: 'version 4 is older than version 5, which is applied: publish a version above 5',
    });
    expect(verifySignedPolicy(await sign(body(5)), admin.address, applied)).toMatchObject({ ok: true, same: true });
    expect(verifySignedPolicy(await sign(body(5, { pauseUntil: '2026-12-05T12:00:00Z' })), admin.address, applied)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/already applied with other content: give a changed policy a higher version/),
    });
  });
});
