/**
 * The two IPC channels between main and the preload. Pure: main imports the names too.
 * The API itself never travels over IPC: it goes over the MessagePort handed out on `port`.
 */
export const CHANNELS = {
  /** main → preload: a MessagePort connected to the agent (again after each agent restart). */
  port: 'offshift:port',
  /** main → preload: the agent stopped and is restarting, or main gave up restarting it. */
  agentStatus: 'offshift:agent-status',
} as const;

export interface PortMessage {
  generation: number;
}

export interface AgentStatusMessage {
  status: 'restarting' | 'failed';
  notice: { level: 'info' | 'warn' | 'error'; title: string; message: string };
}

/** Parses what main sent on `agentStatus`; anything else is ignored. */
export function parseAgentStatus(data: unknown): AgentStatusMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as { status?: unknown; notice?: unknown };
  if (d.status !== 'restarting' && d.status !== 'failed') return null;
  const n = d.notice as { level?: unknown; title?: unknown; message?: unknown } | null | undefined;
  if (typeof n !== 'object' || n === null) return null;
  if ((n.level !== 'info' && n.level !== 'warn' && n.level !== 'error') || typeof n.title !== 'string' || typeof n.message !== 'string') return null;
  return { status: d.status, notice: { level: n.level, title: n.title, message: n.message } };
}
