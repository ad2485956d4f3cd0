import { describe, expect, it } from 'vitest';
import type { Transport } from '../../../runtime/api/client.js';
import { validatingTransport } from '../../../renderer/src/api/validating-transport.js';

function fakeTransport(result: unknown): Transport & { emit(event: string, payload: unknown): void } {
  const listeners = new Set<(event: string, payload: unknown) => void>();
  return {
    request: async () => ({ ok: true, result }),
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event, payload) {
      for (const l of listeners) l(event, payload);
    },
  };
}

const state = { state: 'paused', reason: 'game', detail: 'Paused: cs2.exe is running', since: '2026-01-01T00:00:00.000Z' };

describe('validatingTransport: what comes from the agent is parsed before the UI sees it', () => {
  it('passes a result that matches the contract', async () => {
    const t = validatingTransport(fakeTransport(state));
    expect(await t.request('agent.state', {})).toEqual({ ok: true, result: state });
  });

  it('turns a result of another version into a clear error', async () => {
    const t = validatingTransport(fakeTransport({ state: 'sleeping' }));
    const response = await t.request('agent.state', {});
    expect(response.ok).toBe(false);
    if (!response.ok) {
      expect(response.error.code).toBe('bad-response');
      expect(response.error.message).toMatch(/does not match this dashboard's version/);
    }
  });

  it('forwards valid events and drops malformed or unknown ones, with a warning', () => {
    const inner = fakeTransport(null);
    const warnings: string[] = [];
    const seen: Array<[string, unknown]> = [];
    validatingTransport(inner, (m) => warnings.push(m)).onEvent((event, payload) => seen.push([event, payload]));
    inner.emit('agent.state', state);
    inner.emit('agent.state', { state: 42 });
    inner.emit('no.such.event', {});
    expect(seen).toEqual([['agent.state', state]]);
    expect(warnings).toHaveLength(1);
  });
});
