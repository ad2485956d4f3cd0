import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { onBatteryFromSupplies, SysfsBatterySource } from '../../../runtime/schedule/sources/battery.js';
import { idleFromSession, isGraphical, parseShowSession } from '../../../runtime/schedule/sources/idle-logind.js';
import { containerIdFromCgroup } from '../../../runtime/schedule/sources/own-jobs.js';
import { parsePs, parseTasklist, ProcFsProcessSource } from '../../../runtime/schedule/sources/processes.js';
import { PolledGpuSignalSource } from '../../../runtime/schedule/sources/gpu.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const temps: string[] = [];
function tempDir(): string {
  const d = makeTempDir('offshift-sched-');
  temps.push(d);
  return d;
}
afterEach(() => {
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('process source (/proc)', () => {
  it('reads this machine\'s real /proc and finds this very process', () => {
    const source = new ProcFsProcessSource('/proc', 5000, 0);
    const names = source.names();
    expect(names.length).toBeGreaterThan(3);
    expect(names).toContain(fs.readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim());
  });
  it('gives comm and the command line\'s base name (how Wine games appear), picks up new pids at once and forgets gone ones', () => {
    const dir = tempDir();
    const add = (pid: number, comm: string, cmdline: string) => {
      fs.mkdirSync(path.join(dir, String(pid)));
      fs.writeFileSync(path.join(dir, String(pid), 'comm'), comm + '\n');
      fs.writeFileSync(path.join(dir, String(pid), 'cmdline'), cmdline);
    };
    add(1, 'systemd', '/sbin/init\0splash\0');
    fs.mkdirSync(path.join(dir, 'self'));
    const source = new ProcFsProcessSource(dir, 60_000, 0);
    expect(source.names()).toEqual(['systemd', 'init']);
    add(42, 'cs2.exe', 'C:\\Games\\Counter-Strike\\cs2.exe\0-novid\0');
    expect(source.names()).toEqual(['systemd', 'init', 'cs2.exe']);
    add(2, 'kworker/0:1', '');
    expect([...source.names()].sort()).toEqual(['cs2.exe', 'init', 'kworker/0:1', 'systemd']);
    expect(source.list().map((p) => p.pid).sort((a, b) => a - b)).toEqual([1, 42]); // no kernel threads in the picker
    fs.rmSync(path.join(dir, '42'), { recursive: true });
    fs.rmSync(path.join(dir, '2'), { recursive: true });
    expect(source.names()).toEqual(['systemd', 'init']);
  });
  it('a scan is cheap on this machine (a few ms at most)', () => {
    const source = new ProcFsProcessSource('/proc', 5000, 0);
    source.names();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 50; i++) source.names();
    const perScanMs = Number(process.hrtime.bigint() - t0) / 1e6 / 50;
    console.log(`/proc scan with cache: ${perScanMs.toFixed(3)} ms`);
    expect(perScanMs).toBeLessThan(5);
  });
  it('parses ps and tasklist output', () => {
    expect(parsePs('/usr/sbin/launchd\n/Applications/Steam.app/Contents/MacOS/steam_osx\nzsh\n')).toEqual(['launchd', 'steam_osx', 'zsh']);
    expect(parseTasklist('"System Idle Process","0","Services","0","8 K"\r\n"cs2.exe","4242","Console","1","2,000,000 K"\r\n')).toEqual(['System Idle Process', 'cs2.exe']);
  });
});

describe('battery', () => {
  it('decides from the supplies', () => {
    expect(onBatteryFromSupplies([])).toBe(false);
    expect(onBatteryFromSupplies([{ type: 'Mains', online: '1' }])).toBe(false);
    expect(onBatteryFromSupplies([{ type: 'Battery', status: 'Discharging' }, { type: 'Mains', online: '0' }])).toBe(true);
    expect(onBatteryFromSupplies([{ type: 'Battery', status: 'Charging' }, { type: 'Mains', online: '1' }])).toBe(false);
    expect(onBatteryFromSupplies([{ type: 'Battery', status: 'Full' }, { type: 'Mains', online: '1' }])).toBe(false);
    expect(onBatteryFromSupplies([{ type: 'Battery', status: 'Discharging' }])).toBe(true);
    expect(onBatteryFromSupplies([{ type: 'Battery', status: 'Unknown' }, { type: 'USB_C', online: '0' }])).toBe(true);
  });
  it('reads a sysfs tree', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'BAT0'));
    fs.writeFileSync(path.join(dir, 'BAT0', 'type'), 'Battery\n');
    fs.writeFileSync(path.join(dir, 'BAT0', 'status'), 'Discharging\n');
    fs.mkdirSync(path.join(dir, 'AC'));
    fs.writeFileSync(path.join(dir, 'AC', 'type'), 'Mains\n');
    fs.writeFileSync(path.join(dir, 'AC', 'online'), '0\n');
    expect(new SysfsBatterySource(dir, 0).onBattery()).toBe(true);
    fs.writeFileSync(path.join(dir, 'AC', 'online'), '1\n');
    expect(new SysfsBatterySource(dir, 0).onBattery()).toBe(false);
  });
  it('reads this machine\'s real /sys/class/power_supply and agrees with the supplies read here', () => {
    const dir = '/sys/class/power_supply';
    const r = new SysfsBatterySource().onBattery();
    if (!fs.existsSync(dir)) {
      expect(r).toBeNull(); // no sysfs (not Linux, or a container without it): unknown, not a guess
      return;
    }
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : undefined);
    const supplies = fs.readdirSync(dir).map((name) => ({ type: read(path.join(dir, name, 'type')) ?? '', online: read(path.join(dir, name, 'online')), status: read(path.join(dir, name, 'status')) }));
    expect(r).toBe(onBatteryFromSupplies(supplies));
    if (!supplies.some((s) => s.type === 'Battery')) expect(r).toBe(false); // a server or a desktop: never "on battery"
  });
});

describe('logind idle', () => {
  const text = 'Type=x11\nActive=yes\nClass=user\nIdleHint=yes\nIdleSinceHint=1764072000000000\n';
  it('parses show-session', () => {
    const s = parseShowSession('2', text);
    expect(s).toEqual({ id: '2', type: 'x11', active: true, userClass: 'user', idleHint: true, idleSinceUs: 1764072000000000 });
    expect(isGraphical(s)).toBe(true);
    expect(idleFromSession(s, 1764072000000 + 90_000)).toBe(90);
  });
  it('active user → 0; ssh sessions are not graphical', () => {
    expect(idleFromSession(parseShowSession('2', text.replace('IdleHint=yes', 'IdleHint=no')), Date.now())).toBe(0);
    expect(isGraphical(parseShowSession('3', 'Type=tty\nClass=user\n'))).toBe(false);
    expect(isGraphical(parseShowSession('4', 'Type=wayland\nClass=greeter\n'))).toBe(false);
  });
});

describe('GPU signals', () => {
  it('temperature is the hottest GPU from telemetry; processes come from list() with own jobs marked', async () => {
    const source = new PolledGpuSignalSource(
      {
        list: async () => [
          { temperatureC: 60, processes: [{ pid: 10, name: 'blender', usedMemoryMiB: 2000 }] },
          { temperatureC: 50, processes: [{ pid: 11, name: 'python', usedMemoryMiB: 9000 }] },
        ],
      },
      (pid) => pid === 11,
      10_000,
    );
    source.start();
    await new Promise((r) => setTimeout(r, 50));
    source.stop();
    expect(source.temperatureC()).toBe(60);
    expect(source.processes()).toEqual([
      { pid: 10, name: 'blender', usedMemoryMiB: 2000, ownJob: false },
      { pid: 11, name: 'python', usedMemoryMiB: 9000, ownJob: true },
    ]);
    source.onSamples([{ gpuIndex: 1, temperatureC: 88 }]);
    expect(source.temperatureC()).toBe(88);
  });
  it('polls the process list slowly, and at once when a GPU\'s used memory grows (a game starting)', async () => {
    let procs = [{ pid: 10, name: 'Xorg', usedMemoryMiB: 200 }];
    const source = new PolledGpuSignalSource({ list: async () => [{ temperatureC: 50, processes: procs }] }, () => false, 60_000, 256, 50);
    source.start();
    await new Promise((r) => setTimeout(r, 30));
    expect(source.polls).toBe(1);
    source.onSamples([{ gpuIndex: 0, temperatureC: 50, memoryUsedMiB: 300 }]); // the baseline
    source.onSamples([{ gpuIndex: 0, temperatureC: 50, memoryUsedMiB: 500 }]); // +200: not enough
    await new Promise((r) => setTimeout(r, 80));
    expect(source.polls).toBe(1);
    procs = [...procs, { pid: 11, name: 'cs2', usedMemoryMiB: 3000 }];
    source.onSamples([{ gpuIndex: 0, temperatureC: 50, memoryUsedMiB: 3300 }]); // a game allocates
    await new Promise((r) => setTimeout(r, 120));
    expect(source.polls).toBe(2);
    expect(source.processes().map((p) => p.name)).toEqual(['Xorg', 'cs2']);
    // The new level is the baseline: no more polls while it stays.
    source.onSamples([{ gpuIndex: 0, temperatureC: 50, memoryUsedMiB: 3300 }]);
    source.onSamples([{ gpuIndex: 0, temperatureC: 50, memoryUsedMiB: 3350 }]);
    await new Promise((r) => setTimeout(r, 120));
    expect(source.polls).toBe(2);
    source.stop();
  });
  it('finds the container id in a cgroup file (v1 and v2 layouts)', () => {
    const id = 'a'.repeat(64);
    expect(containerIdFromCgroup(`0::/system.slice/docker-${id}.scope\n`)).toBe(id);
    expect(containerIdFromCgroup(`12:memory:/docker/${id}\n`)).toBe(id);
    expect(containerIdFromCgroup('0::/user.slice/user-1000.slice/session-2.scope\n')).toBeNull();
  });
});
