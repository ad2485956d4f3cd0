/**
 * Wires the API to the store: subscribes to the agent's events once, and after every
 * (re)connection fetches the agent's state, the GPUs, the telemetry history and (the first
 * time) the system check.
 */
import { ApiError, type Client } from '../../../runtime/api/client.js';
import { connect, type Connection } from '../api/connect.js';
import { dashboardStore } from './dashboard-store.js';

let connection: Connection | null = null;
let checkedOnce = false;
/** The agent process the store was filled from; another pid means main restarted it. */
let agentPid: number | null = null;
/** How often the Electron window checks that its agent is the same process. */
const AGENT_WATCH_MS = 5000;

export function startSession(): Connection {
  if (connection) return connection;
  connection = connect({
    onStatus: (status) => dashboardStore.getState().setConnection(status),
    onConnected: (client) => void syncAll(client),
    warn: (message) => console.warn(message),
  });
  const { client } = connection;
  client.on('agent.state', (state) => dashboardStore.getState().setAgent(state));
  client.on('gpu.telemetry', ({ samples }) => dashboardStore.getState().addSamples(samples));
  client.on('gpu.telemetryStatus', (status) => dashboardStore.getState().setTelemetryStatus(status));
  client.on('notice', (notice) => {
    const id = dashboardStore.getState().pushNotice(notice);
    setTimeout(() => dashboardStore.getState().dismissNotice(id), notice.level === 'error' ? 20_000 : 8_000);
  });
  // In Electron, main restarts a dead agent behind the same bridge (no reconnect seen here):
  // notice the new process by its pid and fetch everything afresh.
  setInterval(() => {
    const status = dashboardStore.getState().connection;
    if (status.phase !== 'connected' || status.transport !== 'electron' || !connection) return;
    const c = connection.client;
    c.call('agent.info').then(
      (info) => {
        if (agentPid !== null && info.pid !== agentPid) void syncAll(c);
      },
      () => {},
    );
  }, AGENT_WATCH_MS);
  return connection;
}

function client(): Client | null {
  return connection?.client ?? null;
}

async function syncAll(c: Client): Promise<void> {
  const store = dashboardStore.getState();
  const [state, info, telemetry] = await Promise.allSettled([
    c.call('agent.state'),
    c.call('agent.info'),
    // Everything the agent's ring buffer holds: after a reconnect this fills the gap, and
    // samples already held are merged away by timestamp.
    c.call('gpu.telemetry'),
  ]);
  if (state.status === 'fulfilled') store.setAgent(state.value);
  if (info.status === 'fulfilled') {
    agentPid = info.value.pid;
    store.setInfo({ version: info.value.version, platform: info.value.platform });
  }
  if (telemetry.status === 'fulfilled') {
    store.setTelemetryStatus(telemetry.value.status);
    store.addSamples(telemetry.value.samples);
  }
  await refreshGpus();
  if (!checkedOnce) {
    checkedOnce = true;
    await runSystemCheck();
  }
}

/** Fetches the GPU inventory again (on connect and from the GPUs page's Refresh button). */
export async function refreshGpus(): Promise<void> {
  const c = client();
  if (!c) return;
  const store = dashboardStore.getState();
  store.setGpusLoading();
  try {
    const { gpus } = await c.call('gpu.list');
    store.setGpus(gpus);
  } catch (error) {
    store.setGpusError(messageOf(error));
  }
}

/** Runs the system check (on first connect and from the System check page's button). */
export async function runSystemCheck(): Promise<void> {
  const c = client();
  if (!c || dashboardStore.getState().systemCheckRunning) return;
  const store = dashboardStore.getState();
  store.setSystemCheckRunning();
  try {
    store.setSystemCheck(await c.call('system.check'));
  } catch (error) {
    store.setSystemCheckError(messageOf(error));
  }
}

export function retryConnectionNow(): void {
  connection?.retryNow();
}

function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
