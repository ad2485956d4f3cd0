import { describe, expect, it } from 'vitest';
import { checkMarketUrl, firstImage, formatSeconds, paidFraction, retryText, runSeconds, shortAddress } from '../../../renderer/src/lib/market.js';

describe('the Marketplace page helpers', () => {
  it('paid up to vs due: a fraction for the bar, full when nothing is due, never over 1', () => {
    expect(paidFraction('0', '0')).toBe(1);
    expect(paidFraction('50', '200')).toBe(0.25);
    expect(paidFraction('300', '200')).toBe(1);
    // Token base units are far beyond 2^53: exact bigint maths, not floats.
    expect(paidFraction('1000000000000000000000', '3000000000000000000000')).toBe(0.333);
  });

  it('says when the next retry is', () => {
    expect(retryText(null, 0)).toBeNull();
    expect(retryText(12_400, 0)).toBe('retrying in 13 s');
    expect(retryText(1_000, 5_000)).toBe('retrying now');
  });

  it('time run: the reported seconds, or since the start when that is later', () => {
    expect(runSeconds({ usageSeconds: 30, startedAt: null }, 0)).toBe(30);
    expect(runSeconds({ usageSeconds: 30, startedAt: 1_000 }, 61_000)).toBe(60);
    expect(formatSeconds(59)).toBe('59 s');
    expect(formatSeconds(125)).toBe('2 min 5 s');
    expect(formatSeconds(3_725)).toBe('1 h 2 min');
    expect(shortAddress('0x1234567890abcdef1234567890abcdef12345678')).toBe('0x1234…5678');
  });

  it('checks a market address before sending it: wss://, or ws:// on this computer only', () => {
    expect(checkMarketUrl('wss://market.example.com')).toEqual({ ok: true, url: 'wss://market.example.com' });
    expect(checkMarketUrl(' ws://127.0.0.1:8080 ')).toEqual({ ok: true, url: 'ws://127.0.0.1:8080' });
    expect(checkMarketUrl('ws://localhost:1')).toMatchObject({ ok: true });
    expect(checkMarketUrl('ws://market.example.com')).toMatchObject({ ok: false, why: expect.stringMatching(/use wss:\/\//) });
    expect(checkMarketUrl('https://market.example.com')).toMatchObject({ ok: false });
    expect(checkMarketUrl('market')).toMatchObject({ ok: false });
    expect(checkMarketUrl('')).toMatchObject({ ok: false });
  });

  it('picks the newest picture among a job outputs', () => {
    const f = (path: string, mimeType: string, modifiedAt: number) => ({ path, mimeType, modifiedAt, sizeBytes: 1 });
    expect(firstImage([f('log.txt', 'text/plain', 9)])).toBeNull();
    expect(firstImage([f('a.png', 'image/png', 1), f('b.jpg', 'image/jpeg', 5), f('c.txt', 'text/plain', 9), f('d.svg', 'image/svg+xml', 10)])!.path).toBe('b.jpg');
  });
});
