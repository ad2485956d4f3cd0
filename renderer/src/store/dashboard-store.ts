/**
 * The dashboard's state (zustand): the connection, the agent's state, the GPUs, their telemetry
 * history and the system check. Filled by store/session.ts from the API; pages only read it.
 */
import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';
import type { AgentState, Notice } from '../../../runtime/agent/schema.js';
import type { Gpu, TelemetrySample, TelemetryStatus } from '../../../runtime/gpu/schema.js';
import type { SystemCheck } from '../../../runtime/system/schema.js';
import type { ConnectionStatus } from '../api/connect.js';
import { appendSamples, type TelemetryHistory } from './telemetry-window.js';

export interface AgentInfo {
  version: string;
  platform: string;
}

export interface ShownNotice extends Notice {
  id: number;
}

export interface DashboardState {
  connection: ConnectionStatus;
  agent: AgentState | null;
  info: AgentInfo | null;
  gpus: Gpu[] | null;
  gpusError: string | null;
  gpusLoading: boolean;
  telemetry: TelemetryHistory;
  telemetryStatus: TelemetryStatus | null;
  systemCheck: SystemCheck | null;
  systemCheckRunning: boolean;
  systemCheckError: string | null;
  notices: ShownNotice[];

  setConnection(status: ConnectionStatus): void;
  setAgent(agent: AgentState): void;
  setInfo(info: AgentInfo): void;
  setGpusLoading(): void;
  setGpus(gpus: Gpu[]): void;
  setGpusError(message: string): void;
  addSamples(samples: readonly TelemetrySample[]): void;
  setTelemetryStatus(status: TelemetryStatus): void;
  setSystemCheckRunning(): void;
  setSystemCheck(check: SystemCheck): void;
  setSystemCheckError(message: string): void;
  pushNotice(notice: Notice): number;
  dismissNotice(id: number): void;
}

let nextNoticeId = 1;
/** At most this many notices on screen; the oldest goes first. */
const MAX_NOTICES = 4;

export function createDashboardStore() {
  return createStore<DashboardState>()((set) => ({
    connection: { phase: 'connecting', transport: 'websocket' },
    agent: null,
    info: null,
    gpus: null,
    gpusError: null,
    gpusLoading: false,
    telemetry: {},
    telemetryStatus: null,
    systemCheck: null,
    systemCheckRunning: false,
    systemCheckError: null,
    notices: [],

    setConnection: (connection) => set({ connection }),
    setAgent: (agent) => set({ agent }),
    setInfo: (info) => set({ info }),
    setGpusLoading: () => set({ gpusLoading: true }),
    setGpus: (gpus) => set({ gpus, gpusError: null, gpusLoading: false }),
    setGpusError: (gpusError) => set({ gpusError, gpusLoading: false }),
    addSamples: (samples) => set((s) => ({ telemetry: appendSamples(s.telemetry, samples) })),
    setTelemetryStatus: (telemetryStatus) => set({ telemetryStatus }),
    setSystemCheckRunning: () => set({ systemCheckRunning: true, systemCheckError: null }),
    setSystemCheck: (systemCheck) => set({ systemCheck, systemCheckRunning: false, systemCheckError: null }),
    setSystemCheckError: (systemCheckError) => set({ systemCheckError, systemCheckRunning: false }),
    pushNotice: (notice) => {
      const id = nextNoticeId++;
      set((s) => ({ notices: [...s.notices, { ...notice, id }].slice(-MAX_NOTICES) }));
      return id;
    },
    dismissNotice: (id) => set((s) => ({ notices: s.notices.filter((n) => n.id !== id) })),
  }));
}

export type DashboardStore = ReturnType<typeof createDashboardStore>;

/** The one store of the page. */
export const dashboardStore: DashboardStore = createDashboardStore();

/** Reads a slice of the store in a component (select primitives or stable references). */
export function useDashboard<T>(selector: (state: DashboardState) => T): T {
  return useStore(dashboardStore, selector);
}
