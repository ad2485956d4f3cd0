import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron.js'));

const fake = await import('./fake-electron.js');
const { trayView } = await import('../../../main/tray.js');
const { runApp } = await import('../../../main/app.js');

const state = (s: 'available' | 'working' | 'paused' | 'error', detail: string) => ({ state: s, reason: 'r', detail, since: '2026-01-01T00:00:00.000Z' });

describe('trayView', () => {
  it('shows the agent\'s state and its reason while the agent runs', () => {
    expect(trayView({ status: 'running', pid: 1 }, state('paused', 'Paused: cs2.exe is running'))).toEqual({
      image: 'paused',
      tooltip: 'Offshift: Paused: cs2.exe is running',
      statusLine: 'Paused: cs2.exe is running',
    });
    expect(trayView({ status: 'running', pid: 1 }, state('working', 'Working: 1 job running.')).image).toBe('working');
  });

  it('says when the agent process is starting, restarting or gone', () => {
    expect(trayView({ status: 'starting' }, null).image).toBe('starting');
    expect(trayView({ status: 'restarting', delayMs: 500, exitCode: 1 }, null)).toMatchObject({ image: 'error', statusLine: 'Agent restarting…' });
    expect(trayView({ status: 'failed', message: 'm' }, null)).toMatchObject({ image: 'error', statusLine: expect.stringContaining('quit and reopen') });
  });

  it('keeps a long reason short', () => {
    expect(trayView({ status: 'running', pid: 1 }, state('error', 'x'.repeat(300))).statusLine.length).toBeLessThanOrEqual(120);
  });
});

describe('the tray in the app (electron mocked)', () => {
  beforeEach(() => {
    fake.resetFakeElectron();
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });

  it('follows the agent\'s state reported by the utilityProcess, and offers Open and Quit', async () => {
    const running = runApp('file:///opt/offshift/dist/main/main.js')!;
    await new Promise((r) => setTimeout(r, 0));
    expect(fake.Tray.instances).toHaveLength(1);
    const tray = fake.Tray.instances[0]!;
    const child = fake.utilityProcess.children[0]!;
    child.emit('spawn');
    child.emit('message', { type: 'state', state: state('available', 'Available: waiting for work.') });
    expect(tray.setToolTip).toHaveBeenLastCalledWith('Offshift: Available: waiting for work.');
    expect(fake.nativeImage.createFromPath).toHaveBeenLastCalledWith('/opt/offshift/resources/tray/available.png');
    const menu = tray.setContextMenu.mock.calls.at(-1)![0] as { template: Array<{ label?: string; click?: () => void }> };
    expect(menu.template.map((i) => i.label)).toEqual(['Available: waiting for work.', undefined, 'Open Offshift', 'Quit Offshift']);
    menu.template[3]!.click!();
    expect(fake.app.quit).toHaveBeenCalled();

    child.emit('message', { type: 'state', state: { state: 'bogus' } }); // malformed: ignored
    expect(tray.setToolTip).toHaveBeenLastCalledWith('Offshift: Available: waiting for work.');
    child.emit('exit', 1);
    expect(tray.setToolTip).toHaveBeenLastCalledWith('Offshift: the agent stopped and is restarting');
    await running.host.stop(); // cancels the pending restart
  });
});
