/**
 * The tray and close-to-tray in the app, with `electron` mocked: the tray follows the agent's
 * state, its menu acts through main's own connection to the agent (a real wire-protocol
 * request on main's MessagePort), closing the window keeps the app in the tray (saying so the
 * first time), and Quit stops the agent first.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron.js'));
process.env.OFFSHIFT_AGENT_MODE = 'embedded';

const fake = await import('./fake-electron.js');
const { trayImageFile, toMenuTemplate } = await import('../../../main/tray/tray.js');
const { runApp } = await import('../../../main/app.js');

const tick = () => new Promise((r) => setTimeout(r, 0));
const state = (s: 'available' | 'working' | 'paused' | 'error', detail: string) => ({ state: s, reason: 'r', detail, since: '2026-01-01T00:00:00.000Z' });
type MenuTemplate = { template: Array<{ label?: string; enabled?: boolean; click?: () => void; type?: string }> };
const lastMenu = (tray: InstanceType<typeof fake.Tray>) => tray.setContextMenu.mock.calls.at(-1)![0] as MenuTemplate;

/** main's end of its own agent port, and the requests main sent on it. */
function mainPort() {
  const port = fake.MessageChannelMain.created[0]!.port2;
  const requests = () => port.postMessage.mock.calls.map((c) => JSON.parse(c[0] as string) as { id: number; command: string; input: unknown });
  const answer = (id: number, result: unknown) => port.emit('message', { data: JSON.stringify({ type: 'response', id, ok: true, result }) });
  return { port, requests, answer };
}

describe('tray adapter', () => {
  it('uses template images on macOS and coloured ones elsewhere', () => {
    expect(trayImageFile('/r/tray', 'paused', 'darwin')).toBe('/r/tray/pausedTemplate.png');
    expect(trayImageFile('/r/tray', 'paused', 'linux')).toBe('/r/tray/paused.png');
  });
  it('renders info lines disabled, separators, and actions with their enabled state', () => {
    const onAction = vi.fn();
    const template = toMenuTemplate(
      {
        image: 'available',
        tooltip: 't',
        items: [
          { kind: 'info', label: 'Available' },
          { kind: 'separator' },
          { kind: 'action', action: 'pause-hour', label: 'Pause for 1 hour (locked by your administrator)', enabled: false },
          { kind: 'action', action: 'quit', label: 'Quit Offshift', enabled: true },
        ],
      },
      onAction,
    );
    expect(template.map((t) => [t.label, t.enabled, t.type])).toEqual([
      ['Available', false, undefined],
      [undefined, undefined, 'separator'],
      ['Pause for 1 hour (locked by your administrator)', false, undefined],
      ['Quit Offshift', true, undefined],
    ]);
    (template[3]!.click as () => void)();
    expect(onAction).toHaveBeenCalledWith('quit');
  });
});

describe('the tray in the app (electron mocked)', () => {
  beforeEach(() => {
    fake.resetFakeElectron();
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  it('follows the agent\'s state with its icon and reason, and pauses for an hour through the agent', async () => {
    const running = runApp('file:///opt/offshift/dist/main/main.js')!;
    await running.ready;
    expect(fake.Tray.instances).toHaveLength(1);
    const tray = fake.Tray.instances[0]!;
    const child = fake.utilityProcess.children[0]!;
    child.emit('spawn');
    child.emit('message', { type: 'state', state: state('available', 'Available: waiting for work.') });
    expect(tray.setToolTip).toHaveBeenLastCalledWith('Offshift: Available: waiting for work.');
    expect(fake.nativeImage.createFromPath).toHaveBeenLastCalledWith(`/opt/offshift/resources/tray/${process.platform === 'darwin' ? 'availableTemplate' : 'available'}.png`);
    const menu = lastMenu(tray);
    expect(menu.template.map((i) => i.label ?? '---')).toEqual([
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

    const { requests, answer } = mainPort();
    menu.template[2]!.click!();
    const pause = requests().find((r) => r.command === 'agent.pause')!;
    expect(pause.input).toEqual({ forMinutes: 60 });
    answer(pause.id, {});

    child.emit('message', { type: 'state', state: { state: 'bogus' } }); // malformed: ignored
    expect(tray.setToolTip).toHaveBeenLastCalledWith('Offshift: Available: waiting for work.');
    child.emit('exit', 1);
    expect(tray.setToolTip).toHaveBeenLastCalledWith('Offshift: Agent restarting…');
    await running.host.stop(); // cancels the pending restart
  });

  it('shows today\'s earnings and the running job from the agent, and Quit says how many jobs it stops', async () => {
    const running = runApp('file:///opt/offshift/dist/main/main.js')!;
    await running.ready;
    const tray = fake.Tray.instances[0]!;
    const child = fake.utilityProcess.children[0]!;
    child.emit('spawn');
    const { requests, answer } = mainPort();
    child.emit('message', { type: 'state', state: state('working', 'Working: 1 job running.') });
    await tick();
    const list = requests().find((r) => r.command === 'jobs.list')!;
    answer(list.id, {
      jobs: [{ id: 'j1', state: 'running', startedAt: Date.now() - 5 * 60_000, spec: { image: 'ghcr.io/acme/render@sha256:' + 'a'.repeat(64) }, detail: '' }],
      gpusOutOfService: [],
    });
    const schedule = requests().find((r) => r.command === 'schedule.get')!;
    answer(schedule.id, { effective: { snoozeUntil: null, pausedUntilResumed: false }, locked: ['schedule.snoozeUntil'] });
    const market = requests().find((r) => r.command === 'market.status')!;
    answer(market.id, { network: 'demo', jobs: [], tokenSymbol: 'OFS', tokenDecimals: 18 });
    await vi.waitFor(() => expect(lastMenu(tray).template.map((i) => i.label)).toContain('Running: acme/render · 5 min'));
    expect(lastMenu(tray).template.map((i) => i.label)).toContain('Demo network (test tokens)');
    const labels = lastMenu(tray).template.map((i) => i.label);
    expect(labels.at(-1)).toBe('Quit Offshift (stops 1 running job first)');
    // The admin locked the snooze: greyed, with the reason.
    expect(lastMenu(tray).template.find((i) => i.label?.startsWith('Pause for 1 hour'))).toMatchObject({ label: 'Pause for 1 hour (locked by your administrator)', enabled: false });
    const stopped = running.host.stop();
    child.emit('exit', 0);
    await stopped;
  });

  it('closing the window keeps the app in the tray (saying so once); Quit stops the agent, then quits', async () => {
    const running = runApp('file:///opt/offshift/dist/main/main.js')!;
    await running.ready;
    const window = fake.BrowserWindow.instances[0]!;
    const child = fake.utilityProcess.children[0]!;
    child.emit('spawn');
    expect(window.tryClose().prevented).toBe(true);
    expect(window.hide).toHaveBeenCalled();
    expect(fake.Notification.shown.map((n) => n.options.title)).toEqual(['Offshift is still running']);
    window.tryClose();
    expect(fake.Notification.shown).toHaveLength(1);
    fake.app.emit('window-all-closed');
    expect(fake.app.quit).not.toHaveBeenCalled();

    // The tray's Quit: the agent is asked to stop (its jobs first) before the app quits.
    const quit = lastMenu(fake.Tray.instances[0]!).template.at(-1)!;
    quit.click!();
    expect(fake.app.quit).toHaveBeenCalledOnce();
    const event = { preventDefault: vi.fn() };
    fake.app.emit('before-quit', event);
    expect(event.preventDefault).toHaveBeenCalled();
    expect(child.postMessage).toHaveBeenLastCalledWith({ type: 'shutdown' });
    // While quitting, closing the window really closes it.
    expect(window.tryClose().prevented).toBe(false);
    child.emit('exit', 0);
    await vi.waitFor(() => expect(fake.app.quit).toHaveBeenCalledTimes(2));
  });

  it('started at login (--hidden) stays in the tray without opening the window', async () => {
    process.argv.push('--hidden');
    try {
      const running = runApp('file:///opt/offshift/dist/main/main.js')!;
      await running.ready;
      expect(fake.BrowserWindow.instances).toHaveLength(0);
      fake.Tray.instances[0]!.emit('click');
      expect(fake.BrowserWindow.instances).toHaveLength(1);
      const stopped = running.host.stop();
      fake.utilityProcess.children[0]!.emit('exit', 0);
      await stopped;
    } finally {
      process.argv.pop();
    }
  });
});
