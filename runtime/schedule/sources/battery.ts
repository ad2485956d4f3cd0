/**
 * On battery or on mains. Linux: /sys/class/power_supply (a mains supply online, or a battery
 * that is discharging), re-read every few seconds. Elsewhere: systeminformation.battery().
 * No battery at all → not on battery.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface BatterySource {
  readonly description: string;
  /** null when unknown. Cheap: called every tick. */
  onBattery(): boolean | null;
  start?(): void;
  stop?(): void;
}

export interface PowerSupply {
  type: string;
  online?: string;
  status?: string;
}

/** Pure: from the supplies' `type`, `online` and `status` files. */
export function onBatteryFromSupplies(supplies: readonly PowerSupply[]): boolean | null {
  const batteries = supplies.filter((s) => s.type === 'Battery');
  if (batteries.length === 0) return false;
  const mains = supplies.filter((s) => s.type === 'Mains' || s.type === 'USB' || s.type.startsWith('USB_'));
  if (mains.some((m) => m.online === '1')) return false;
  if (batteries.some((b) => b.status === 'Discharging')) return true;
  if (mains.length > 0 && mains.every((m) => m.online === '0')) return true;
  return false;
}

export class SysfsBatterySource implements BatterySource {
  readonly description = '/sys/class/power_supply';
  private last: boolean | null = null;
  private readAt = 0;

  constructor(
    private readonly dir = '/sys/class/power_supply',
    private readonly refreshMs = 5000,
  ) {}

  onBattery(): boolean | null {
    const now = Date.now();
    if (now - this.readAt < this.refreshMs) return this.last;
    this.readAt = now;
    try {
      const supplies = fs.readdirSync(this.dir).map((name) => ({
        type: read(path.join(this.dir, name, 'type')) ?? '',
        online: read(path.join(this.dir, name, 'online')),
        status: read(path.join(this.dir, name, 'status')),
      }));
      this.last = onBatteryFromSupplies(supplies);
    } catch {
      this.last = null;
    }
    return this.last;
  }
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export class SystemInformationBatterySource implements BatterySource {
  readonly description = 'systeminformation';
  private last: boolean | null = null;
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly pollMs = 10_000) {}
  onBattery(): boolean | null {
    return this.last;
  }
  start(): void {
    const tick = async () => {
      try {
        const si = await import('systeminformation');
        const b = await si.battery();
        this.last = b.hasBattery ? !b.acConnected : false;
      } catch {
        this.last = null;
      }
      if (this.timer !== null) this.timer = setTimeout(() => void tick(), this.pollMs).unref();
    };
    this.timer = setTimeout(() => void tick(), 0).unref();
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export function createBatterySource(platform: NodeJS.Platform = process.platform): BatterySource {
  return platform === 'linux' ? new SysfsBatterySource() : new SystemInformationBatterySource();
}
