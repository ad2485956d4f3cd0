import { verifyMessage, Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { backoffDelay, checkMarketUrl, isLoopbackHost } from '../../../runtime/market/connection.js';
import { parseMessage } from '../../../protocol/frames.js';
import { amountForSeconds, parseSignInMessage, providerMessageSchema, signInMessage, usageReportText } from '../../../protocol/index.js';
import { secondsLeftInWindow } from '../../../runtime/market/window.js';

describe('the sign-in message (EIP-4361)', () => {
  const fields = {
    domain: '127.0.0.1:7000',
    address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    uri: 'ws://127.0.0.1:7000/v1/provider',
    chainId: 31337,
    nonce: 'abcdefghij0123456789',
    issuedAt: '2026-11-27T10:00:00.000Z',
    expirationTime: '2026-11-27T10:01:00.000Z',
    role: 'provider' as const,
  };

  it('is written field for field and parsed back', () => {
    const text = signInMessage(fields);
    expect(text.split('\n')[0]).toBe('127.0.0.1:7000 wants you to sign in with your Ethereum account:');
    expect(text).toContain('\nURI: ws://127.0.0.1:7000/v1/provider\nVersion: 1\nChain ID: 31337\nNonce: abcdefghij0123456789\n');
    expect(parseSignInMessage(text)).toEqual(fields);
  });

  it('recovers to the signer', async () => {
    const w = Wallet.createRandom();
    const text = signInMessage({ ...fields, address: w.address });
    expect(verifyMessage(text, await w.signMessage(text))).toBe(w.address);
  });

  it('is not parsed when a line is changed, missing or added', () => {
    const text = signInMessage(fields);
    expect(parseSignInMessage(text.replace('Version: 1', 'Version: 2'))).toBeNull();
    expect(parseSignInMessage(text.split('\n').slice(0, 10).join('\n'))).toBeNull();
    expect(parseSignInMessage(`${text}\nResources: x`)).toBeNull();
    expect(parseSignInMessage(text.replace('Chain ID: 31337', 'Chain ID: -1'))).toBeNull();
  });
});

describe('frames', () => {
  it('refuses binary frames, oversized frames, non-JSON and unknown message types without throwing', () => {
    expect(parseMessage(providerMessageSchema, Buffer.from('{}'), true)).toMatchObject({ ok: false, code: 'binary-frame' });
    expect(parseMessage(providerMessageSchema, Buffer.alloc(600 * 1024, 32), false)).toMatchObject({ ok: false, code: 'too-large' });
    expect(parseMessage(providerMessageSchema, Buffer.from('{not json'), false)).toMatchObject({ ok: false, code: 'not-json' });
    expect(parseMessage(providerMessageSchema, Buffer.from('{"type":"nope"}'), false)).toMatchObject({ ok: false, code: 'invalid-message' });
    expect(parseMessage(providerMessageSchema, Buffer.from('{"type":"hello","versions":[1],"role":"provider","agent":"x","__proto__":{"admin":true}}'), false)).toMatchObject({ ok: false });
  });
  it('accepts a valid message', () => {
    expect(parseMessage(providerMessageSchema, Buffer.from('{"type":"hello","versions":[1],"role":"provider","agent":"offshift/1"}'), false)).toMatchObject({ ok: true, message: { type: 'hello' } });
  });
});

describe('money both ends agree on', () => {
  it('rounds the amount for seconds down, exactly', () => {
    expect(amountForSeconds(3600, 36n * 10n ** 18n)).toBe(36n * 10n ** 18n);
    expect(amountForSeconds(1, 1000n)).toBe(0n);
    expect(amountForSeconds(7, 3600n)).toBe(7n);
    expect(amountForSeconds(-5, 3600n)).toBe(0n);
  });
  it('signs usage reports over a fixed text', () => {
    expect(usageReportText({ jobId: 'j1', seq: 2, usageSeconds: 10, amountDue: '100', at: 5, final: false, provider: '0xab' })).toBe(
      'Offshift usage report v1\njob: j1\nseq: 2\nseconds: 10\ndue: 100\nat: 5\nfinal: false\nprovider: 0xab',
    );
  });
});

describe('the market URL', () => {
  it('takes wss anywhere and ws on this computer only', () => {
    expect(checkMarketUrl('wss://market.example.com', false).ok).toBe(true);
    expect(checkMarketUrl('ws://127.0.0.1:7000', false).ok).toBe(true);
    expect(checkMarketUrl('ws://[::1]:7000', false).ok).toBe(true);
    const plain = checkMarketUrl('ws://market.example.com', false);
    expect(plain).toMatchObject({ ok: false });
    expect(!plain.ok && plain.reason).toMatch(/not be encrypted/);
    expect(checkMarketUrl('ws://market.example.com', true).ok).toBe(true);
  });
  it('refuses what is not a ws URL, and credentials', () => {
    for (const bad of ['http://x', 'market', '//[', 'ws://user:pw@127.0.0.1', '']) expect(checkMarketUrl(bad, true).ok).toBe(false);
  });
  it('knows loopback hosts', () => {
    expect(['localhost', '127.0.0.1', '127.8.9.10', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['10.0.0.1', '128.0.0.1', 'example.com'].some(isLoopbackHost)).toBe(false);
  });
});

describe('reconnecting', () => {
  it('backs off exponentially from 1 s to 60 s with full jitter', () => {
    expect(backoffDelay(0, () => 1)).toBe(1000);
    expect(backoffDelay(3, () => 1)).toBe(8000);
    expect(backoffDelay(20, () => 1)).toBe(60_000);
    expect(backoffDelay(20, () => 0.25)).toBe(15_000);
    expect(backoffDelay(20, () => 0)).toBe(500);
  });
});

describe('the time left in the schedule window', () => {
  const windows = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const, start: '22:00', end: '06:00' }].map((w) => ({ ...w, days: [...w.days] }));
  it('counts to the end of the window', () => {
    expect(secondsLeftInWindow(new Date('2026-11-27T05:00:00Z'), 'UTC', { mode: 'auto', windows }, 86_400)).toBe(3600);
    expect(secondsLeftInWindow(new Date('2026-11-27T05:59:30Z'), 'UTC', { mode: 'auto', windows }, 86_400)).toBe(30);
  });
  it('is zero outside a window and null when no window limits work', () => {
    expect(secondsLeftInWindow(new Date('2026-11-27T12:00:00Z'), 'UTC', { mode: 'auto', windows }, 86_400)).toBe(0);
    expect(secondsLeftInWindow(new Date('2026-11-27T12:00:00Z'), 'UTC', { mode: 'always', windows }, 86_400)).toBeNull();
    expect(secondsLeftInWindow(new Date('2026-11-27T12:00:00Z'), 'UTC', { mode: 'auto', windows: [] }, 86_400)).toBeNull();
  });
});
