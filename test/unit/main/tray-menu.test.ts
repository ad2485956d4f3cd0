import { describe, expect, it } from 'vitest';
import { formatAmount, formatElapsed, startOfTomorrow, trayMenu, type TrayInput, type TrayMenuItem } from '../../../main/tray/menu.js';

const NOW = Date.parse('2026-11-27T15:00:00.000Z');
const state = (s: 'available' | 'working' | 'paused' | 'error', detail: string, reason = 'r') => ({ state: s, reason, detail, since: '2026-11-27T14:00:00.000Z' });
const base: TrayInput = {
  link: { status: 'running' },
  agent: state('available', 'Available: waiting for work.'),
  mode: 'embedded',
  earnings: null,
  jobs: [],
  snooze: { until: null, untilResumed: false, locked: false },
  walletNeedsUnlock: false,
  network: null,
  updateReady: null,
  now: NOW,
};
const labels = (items: TrayMenuItem[]) => items.map((i) => (i.kind === 'separator' ? '---' : i.label));
const action = (items: TrayMenuItem[], label: string) => items.find((i) => i.kind === 'action' && i.label.startsWith(label)) as Extract<TrayMenuItem, { kind: 'action' }> | undefined;

describe('the tray menu (pure)', () => {
  it('an idle agent: its state and reason, pause choices, open, benchmark, quit', () => {
    const menu = trayMenu(base);
    expect(menu.image).toBe('available');
    expect(menu.tooltip).toBe('Offshift: Available: waiting for work.');
    expect(labels(menu.items)).toEqual([
      'Available: waiting for work.',
      '---',
      'Pause for 1 hour',
      'Pause until tomorrow',
      '---',
      'Open Offshift',
      'Run benchmark…',
      '---',
      'Quit Offshift',
    ]);
    expect(action(menu.items, 'Pause for 1 hour')).toMatchObject({ action: 'pause-hour', enabled: true });
  });

  it('working: today\'s earnings, the running job with how long and what it earned, and Quit says it stops the jobs', () => {
    const menu = trayMenu({
      ...base,
      agent: state('working', 'Working: 2 jobs running.'),
      earnings: { today: '1250000000000000000', symbol: 'OFS', decimals: 18 },
      jobs: [
        { id: 'a', label: 'render/blender', startedAt: NOW - 65 * 60_000, earned: '500000000000000000' },
        { id: 'b', label: 'llm/train', startedAt: NOW - 30_000, earned: null },
      ],
    });
    expect(menu.image).toBe('working');
    const l = labels(menu.items);
    expect(l).toContain('Today: 1.25 OFS');
    expect(l).toContain('Running: render/blender · 1 h 05 min · 0.5 OFS so far');
    expect(l).toContain('Running: llm/train · 30 s');
    expect(l.at(-1)).toBe('Quit Offshift (stops 2 running jobs first)');
    expect(action(menu.items, 'Today')!.action).toBe('open-earnings');
  });

  it('lists three jobs at most and says how many more', () => {
    const jobs = Array.from({ length: 5 }, (_, i) => ({ id: `j${i}`, label: `job${i}`, startedAt: null, earned: null }));
    const l = labels(trayMenu({ ...base, agent: state('working', 'Working'), jobs }).items);
    expect(l.filter((x) => x.startsWith('Running:'))).toHaveLength(3);
    expect(l).toContain('and 2 more running');
    expect(l.at(-1)).toBe('Quit Offshift (stops 5 running jobs first)');
  });

  it('snoozed: says until when and offers Resume instead of the pause choices', () => {
    const until = new Date(NOW + 3_600_000).toISOString();
    const menu = trayMenu({ ...base, agent: state('paused', 'Paused: snoozed for 60 min', 'snoozed'), snooze: { until, untilResumed: false, locked: false } });
    const l = labels(menu.items);
    expect(l.some((x) => x.startsWith('Snoozed until '))).toBe(true);
    expect(action(menu.items, 'Resume')).toMatchObject({ action: 'resume', enabled: true });
    expect(action(menu.items, 'Pause for')).toBeUndefined();
    expect(labels(trayMenu({ ...base, snooze: { until: null, untilResumed: true, locked: false } }).items)).toContain('Snoozed until you resume');
  });

  it('an expired snooze shows the pause choices again', () => {
    const menu = trayMenu({ ...base, snooze: { until: new Date(NOW - 1000).toISOString(), untilResumed: false, locked: false } });
    expect(action(menu.items, 'Pause for 1 hour')).toBeDefined();
  });

  it('greys pause and resume with the reason when the admin policy locks the schedule', () => {
    const menu = trayMenu({ ...base, snooze: { until: null, untilResumed: false, locked: true } });
    expect(action(menu.items, 'Pause for 1 hour')).toMatchObject({ enabled: false, label: 'Pause for 1 hour (locked by your administrator)' });
    expect(action(menu.items, 'Pause until tomorrow')!.enabled).toBe(false);
    const snoozed = trayMenu({ ...base, snooze: { until: null, untilResumed: true, locked: true } });
    expect(action(snoozed.items, 'Resume')).toMatchObject({ enabled: false, label: 'Resume (locked by your administrator)' });
  });

  it('says when the wallet must be unlocked, the demo network, and an update ready', () => {
    const menu = trayMenu({ ...base, walletNeedsUnlock: true, network: 'demo', updateReady: { version: '0.2.0' } });
    const l = labels(menu.items);
    expect(l[1]).toBe('Demo network (test tokens)');
    expect(action(menu.items, 'Unlock the wallet')!.action).toBe('open-wallet');
    expect(action(menu.items, 'Restart to update to 0.2.0')!.action).toBe('install-update');
    expect(menu.tooltip).toContain('update 0.2.0 ready');
    expect(labels(trayMenu({ ...base, network: 'real' }).items)).not.toContain('Demo network (test tokens)');
  });

  it('while the agent starts, restarts or has failed: no pause or benchmark, the right icon and words', () => {
    const starting = trayMenu({ ...base, link: { status: 'starting' }, agent: null });
    expect(starting.image).toBe('starting');
    expect(starting.items[0]).toEqual({ kind: 'info', label: 'Starting…' });
    expect(action(starting.items, 'Pause for 1 hour')!.enabled).toBe(false);
    expect(action(starting.items, 'Run benchmark')!.enabled).toBe(false);
    const restarting = trayMenu({ ...base, link: { status: 'restarting' } });
    expect(restarting.image).toBe('error');
    expect(restarting.items[0]).toEqual({ kind: 'info', label: 'Agent restarting…' });
    expect(trayMenu({ ...base, link: { status: 'failed', message: 'm' } }).tooltip).toContain('quit and reopen');
  });

  it('attached to the system service: says so, and Quit leaves the service running', () => {
    const menu = trayMenu({ ...base, mode: 'service', jobs: [{ id: 'a', label: 'x', startedAt: null, earned: null }] });
    const l = labels(menu.items);
    expect(l).toContain('Agent: the system service');
    expect(l.at(-1)).toBe('Quit Offshift (the service keeps running)');
    expect(trayMenu({ ...base, mode: 'service', link: { status: 'starting' }, agent: null }).items[0]!).toEqual({ kind: 'info', label: 'Connecting to the Offshift service…' });
  });

  it('keeps a long reason short, in the menu and the tooltip', () => {
    const menu = trayMenu({ ...base, agent: state('error', 'x'.repeat(300)) });
    expect((menu.items[0] as { label: string }).label.length).toBeLessThanOrEqual(120);
    expect(menu.tooltip.length).toBeLessThanOrEqual(120);
  });

  it('formats amounts exactly, elapsed times, and tomorrow', () => {
    expect(formatAmount('0', 18, 'OFS')).toBe('0 OFS');
    expect(formatAmount('123456789', 6, 'USDC')).toBe('123.4567 USDC');
    expect(formatAmount('not-a-number', 6, 'USDC')).toBe('? USDC');
    expect(formatElapsed(59_999)).toBe('59 s');
    expect(formatElapsed(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 05 min');
    const t = new Date(startOfTomorrow(NOW));
    expect(t.getTime()).toBeGreaterThan(NOW);
    expect(t.getHours()).toBe(0);
    expect(t.getTime() - NOW).toBeLessThanOrEqual(24 * 3_600_000);
  });
});
