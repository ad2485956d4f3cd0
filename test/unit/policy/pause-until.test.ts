/** "Pause the whole room now": the policy's pauseUntil pauses work until then, over every setting, and ends by the clock. */
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../runtime/policy/load.js';
import { appliedPolicyVersion } from '../../../runtime/policy/version.js';
import { decide } from '../../../runtime/schedule/decide.js';
import type { Signals } from '../../../runtime/schedule/signals.js';

const signals: Signals = { idleSeconds: 3600, processes: [], gpuProcesses: [], gpuTemperatureC: 40, pausedForHeat: false, onBattery: false, systemTimeZone: 'UTC' };
const at = new Date('2026-12-05T10:00:00Z');

describe('pauseUntil', () => {
  const policy = parsePolicy(JSON.stringify({ version: 7, pauseUntil: '2026-12-05T12:00:00Z', mandatory: { schedule: { mode: 'always' } } }), 'p.json');
  it('parses, with the version the agent reports', () => {
    expect(policy).toMatchObject({ state: 'ok', pauseUntil: '2026-12-05T12:00:00Z', version: 7 });
    expect(appliedPolicyVersion(policy)).toBe(7);
    expect(appliedPolicyVersion(parsePolicy('{}', 'p.json'))).toBeNull();
    expect(parsePolicy('{"pauseUntil":"noon"}', 'p.json')).toMatchObject({ state: 'invalid', message: expect.stringMatching(/pauseUntil: must be an ISO 8601/) });
  });
  it('pauses with the admin reason until then, even over mode "always" and a snooze', () => {
    expect(decide(at, signals, { snoozeUntil: '2026-12-05T11:00:00Z' }, policy)).toEqual({
      run: false,
      reason: 'admin-pause',
      detail: "Paused by your administrator's policy until 2026-12-05T12:00:00.000Z.",
    });
  });
  it('ends by the clock', () => {
    expect(decide(new Date('2026-12-05T12:00:00Z'), signals, undefined, policy)).toMatchObject({ run: true, reason: 'mode-always' });
  });
});

describe('the local file pins a source', () => {
  it('https anywhere, plain http only to this computer, and an address as signer', () => {
    const signer = '0x' + 'ab'.repeat(20);
    const with_ = (source: unknown) => parsePolicy(JSON.stringify({ source }), 'p.json');
    expect(with_({ url: 'https://policy.example/room.json', signer })).toMatchObject({ state: 'ok', source: { url: 'https://policy.example/room.json', signer } });
    expect(with_({ url: 'http://127.0.0.1:8080/p', signer, everySeconds: 1 }).state).toBe('ok');
    expect(with_({ url: 'http://policy.example/p', signer })).toMatchObject({ state: 'invalid', message: expect.stringMatching(/source\.url: must be an https:\/\/ URL/) });
    expect(with_({ url: 'https://policy.example/p', signer: 'admin' })).toMatchObject({ state: 'invalid', message: expect.stringMatching(/source\.signer: must be an Ethereum address/) });
  });
});
