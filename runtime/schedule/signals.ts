/** What `decide` looks at besides the clock and the settings. Each comes from a small source. */
export interface GpuProcessSignal {
  pid?: number;
  name: string;
  usedMemoryMiB: number | null;
  /** True for a process of one of Offshift's own jobs: never counts as foreign use. */
  ownJob?: boolean;
}

export interface Signals {
  /** Seconds since the last keyboard/mouse input; null when there is no idle source. */
  idleSeconds: number | null;
  /** Names of running processes (comm and executable base names). */
  processes: readonly string[];
  gpuProcesses: readonly GpuProcessSignal[];
  /** The hottest GPU, °C, from fresh readings; null when unknown. */
  gpuTemperatureC: number | null;
  /**
   * Set when a GPU that reported a temperature has no fresh one (why, in words): the thermal
   * rule then fails safe. Absent or null: every GPU that reports temperatures is fresh.
   */
  gpuTemperatureUnknown?: string | null;
  /** The heat latch: paused for heat earlier and not yet cooled below resumeBelowC. */
  pausedForHeat: boolean;
  /** null when unknown (no battery, or no source). */
  onBattery: boolean | null;
  /** The system's IANA zone, used when the settings name none. */
  systemTimeZone: string;
}

export const emptySignals: Signals = {
  idleSeconds: null,
  processes: [],
  gpuProcesses: [],
  gpuTemperatureC: null,
  pausedForHeat: false,
  onBattery: null,
  systemTimeZone: 'UTC',
};
