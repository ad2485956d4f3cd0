import { describe, expect, it } from 'vitest';
import { formatMemory, formatReading, formatSince, stateHeadline } from '../../../renderer/src/lib/format.js';
import { routeFromHash } from '../../../renderer/src/lib/route.js';
import { backoffDelayMs } from '../../../renderer/src/api/backoff.js';

describe('stateHeadline: the header’s words', () => {
  it('drops the repeated state so it reads "Paused — cs2.exe is running"', () => {
    expect(stateHeadline({ state: 'paused', detail: 'Paused: cs2.exe is running' })).toEqual({ label: 'Paused', sentence: 'cs2.exe is running' });
    expect(stateHeadline({ state: 'available', detail: 'Available: waiting for work.' })).toEqual({ label: 'Available', sentence: 'Waiting for work.' });
  });

  it('keeps a reason that does not repeat the state, and names error plainly', () => {
    expect(stateHeadline({ state: 'error', detail: 'No GPU found: install your GPU driver.' })).toEqual({ label: 'Needs attention', sentence: 'No GPU found: install your GPU driver.' });
  });
});

describe('formatting', () => {
  it('memory in the unit a person reads', () => {
    expect(formatMemory(11264)).toBe('11 GiB');
    expect(formatMemory(24576)).toBe('24 GiB');
    expect(formatMemory(7982)).toBe('7.8 GiB');
    expect(formatMemory(512)).toBe('512 MiB');
    expect(formatMemory(null)).toBe('Unknown');
  });

  it('readings with units, and a dash for no reading', () => {
    expect(formatReading(41, '°C')).toBe('41°C');
    expect(formatReading(37, '%')).toBe('37%');
    expect(formatReading(21.456, 'W', 1)).toBe('21.5 W');
    expect(formatReading(null, 'W')).toBe('—');
  });

  it('how long ago', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatSince('2026-01-01T12:00:00Z', now)).toBe('just now');
    expect(formatSince('2026-01-01T11:59:30Z', now)).toBe('30 s ago');
    expect(formatSince('2026-01-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatSince('not a date', now)).toBe('');
  });
});

describe('routing and reconnecting', () => {
  it('reads the page from the hash, else the first page', () => {
    expect(routeFromHash('#/system', ['gpus', 'system'], 'gpus')).toBe('system');
    expect(routeFromHash('#/nope', ['gpus', 'system'], 'gpus')).toBe('gpus');
    expect(routeFromHash('', ['gpus', 'system'], 'gpus')).toBe('gpus');
  });

  it('backs off exponentially up to a cap', () => {
    const fixed = () => 1;
    expect(backoffDelayMs(0, fixed)).toBe(500);
    expect(backoffDelayMs(1, fixed)).toBe(1000);
    expect(backoffDelayMs(3, fixed)).toBe(4000);
    expect(backoffDelayMs(30, fixed)).toBe(10_000);
    expect(backoffDelayMs(0, () => 0)).toBe(400);
  });
});

describe('the memory chart’s reading', () => {
  it('reads MiB under 1 GiB and GiB above', async () => {
    const { METRICS } = await import('../../../renderer/src/lib/metrics.js');
    const memory = METRICS.find((m) => m.id === 'memory')!;
    expect(memory.format?.(512 / 1024)).toBe('512 MiB');
    expect(memory.format?.(2.5)).toBe('2.50 GiB');
  });
});
