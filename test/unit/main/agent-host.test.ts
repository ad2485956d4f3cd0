import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./fake-electron.js'));

const fake = await import('./fake-electron.js');
const { AgentHost } = await import('../../../main/agent/agent-host.js');
const { CHANNELS } = await import('../../../preload/channels.js');

const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
const policy = { baseDelayMs: 500, maxDelayMs: 8000, windowMs: 60_000, maxCrashesInWindow: 3 };

function setup() {
  let now = 1_000_000;
  const statuses: string[] = [];
  const host = new AgentHost({
    entry: '/app/dist/main/agent-process.js',
    home: '/home/u/.config/Offshift',
    env: { PATH: '/usr/bin' },
    log,
    policy,
    now: () => now,
    output: () => {},
    onStatus: (s) => statuses.push(s.status),
  });
  const window = new fake.FakeWebContents();
  return { host, window, statuses, advance: (ms: number) => { now += ms; vi.advanceTimersByTime(ms); } };
}

const portsPosted = (window: InstanceType<typeof fake.FakeWebContents>) => window.postMessage.mock.calls.filter((c) => c[0] === CHANNELS.port);
const statusSent = (window: InstanceType<typeof fake.FakeWebContents>) => window.send.mock.calls.filter((c) => c[0] === CHANNELS.agentStatus).map((c) => c[1]);

describe('AgentHost (utilityProcess mocked)', () => {
  beforeEach(() => {
    fake.resetFakeElectron();
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('forks the agent entry with the data folder and the agent\'s V8 flags, piping its output', () => {
    const { host } = setup();
    host.start();
    expect(fake.utilityProcess.fork).toHaveBeenCalledWith('/app/dist/main/agent-process.js', ['--offshift-home=/home/u/.config/Offshift'], {
      serviceName: 'Offshift agent',
      stdio: 'pipe',
      execArgv: ['--max-semi-space-size=1', '--no-opt', '--max-lazy'],
      env: { PATH: '/usr/bin' },
    });
  });

  it('restarts the agent after an unexpected exit and gives the window a new port', () => {
    const { host, window, statuses } = setup();
    host.start();
    host.connect(window);
    const first = fake.utilityProcess.children[0]!;
    expect(portsPosted(window)).toHaveLength(1);
    expect(portsPosted(window)[0]![1]).toEqual({ generation: 1 });

    first.emit('exit', 1);
    // The window hears why, right away.
    expect(statusSent(window)).toEqual([
      { status: 'restarting', notice: expect.objectContaining({ level: 'warn', title: 'The agent stopped and is restarting', message: expect.stringContaining('exit code 1') }) },
    ]);
    expect(fake.utilityProcess.fork).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(499);
    expect(fake.utilityProcess.fork).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(fake.utilityProcess.fork).toHaveBeenCalledTimes(2);

    const second = fake.utilityProcess.children[1]!;
    const channel = fake.MessageChannelMain.created[1]!;
    expect(second.postMessage).toHaveBeenCalledWith({ type: 'connect', connectionId: 2 }, [channel.port1]);
    expect(portsPosted(window)).toHaveLength(2);
    expect(portsPosted(window)[1]).toEqual([CHANNELS.port, { generation: 2 }, [channel.port2]]);
    expect(statuses).toEqual(['starting', 'restarting', 'starting']);
  });

  it('backs off with each quick crash and gives up with a clear error after too many', () => {
    const { host, window, advance, statuses } = setup();
    host.start();
    host.connect(window);

    fake.utilityProcess.children[0]!.emit('exit', 1);
    advance(500);
    fake.utilityProcess.children[1]!.emit('exit', 1);
    advance(999);
    expect(fake.utilityProcess.fork).toHaveBeenCalledTimes(2);
    advance(1);
    expect(fake.utilityProcess.fork).toHaveBeenCalledTimes(3);

    fake.utilityProcess.children[2]!.emit('exit', 134);
    advance(60_000);
    expect(fake.utilityProcess.fork).toHaveBeenCalledTimes(3);
    expect(statuses.at(-1)).toBe('failed');
    const last = statusSent(window).at(-1) as { status: string; notice: { level: string; message: string } };
    expect(last.status).toBe('failed');
    expect(last.notice.level).toBe('error');
    expect(last.notice.message).toMatch(/stopped 3 times .*Quit and reopen Offshift/);

    // A window that loads later still learns that the agent is down.
    const late = new fake.FakeWebContents();
    host.connect(late);
    expect(statusSent(late)).toEqual([last]);
    expect(portsPosted(late)).toHaveLength(0);
  });

  it('does not restart an agent it was asked to stop, and kills one that will not stop', async () => {
    const { host } = setup();
    host.start();
    const child = fake.utilityProcess.children[0]!;
    child.postMessage.mockImplementation(() => undefined); // ignores the shutdown request
    const stopped = host.stop(3000);
    expect(child.postMessage).toHaveBeenCalledWith({ type: 'shutdown' });
    expect(child.kill).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(3000);
    expect(child.kill).toHaveBeenCalled();
    await stopped;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.utilityProcess.fork).toHaveBeenCalledTimes(1);
  });

  it('never hangs quitting on an agent that will not even die', async () => {
    const { host } = setup();
    host.start();
    const child = fake.utilityProcess.children[0]!;
    child.kill.mockImplementation(() => true); // no exit event, ever
    let done = false;
    const stopped = host.stop(1000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(2999);
    expect(child.kill).toHaveBeenCalled();
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stopped;
    expect(done).toBe(true);
  });

  it('skips windows that were destroyed', () => {
    const { host, window } = setup();
    host.start();
    host.connect(window);
    window.destroyed = true;
    fake.utilityProcess.children[0]!.emit('exit', 1);
    vi.advanceTimersByTime(500);
    expect(portsPosted(window)).toHaveLength(1);
    expect(statusSent(window)).toHaveLength(0);
  });
});
