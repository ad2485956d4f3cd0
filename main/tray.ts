/**
 * A minimal tray: an icon coloured by the agent's state, its reason as the tooltip and first
 * menu line, "Open Offshift" and "Quit Offshift". (Living in the tray with the window closed,
 * pause/resume from the menu and notifications come with the tray issue.)
 */
import path from 'node:path';
import { Menu, nativeImage, Tray } from 'electron';
import type { AgentState, AgentStateName } from '../runtime/agent/schema.js';
import type { AgentHostStatus } from './agent/agent-host.js';

export interface TrayView {
  /** resources/tray/<image>.png */
  image: AgentStateName;
  tooltip: string;
  statusLine: string;
}

/** What the tray shows, from the host's view of the process and the agent's own state. Pure. */
export function trayView(host: AgentHostStatus, agent: AgentState | null): TrayView {
  if (host.status === 'failed') return { image: 'error', tooltip: 'Offshift: the agent has stopped', statusLine: 'Agent stopped: quit and reopen Offshift' };
  if (host.status === 'restarting') return { image: 'error', tooltip: 'Offshift: the agent stopped and is restarting', statusLine: 'Agent restarting…' };
  if (host.status === 'starting' || host.status === 'stopped' || !agent) return { image: 'starting', tooltip: 'Offshift: starting', statusLine: 'Starting…' };
  const detail = agent.detail.length > 120 ? `${agent.detail.slice(0, 117)}…` : agent.detail;
  return { image: agent.state, tooltip: `Offshift: ${detail}`, statusLine: detail };
}

export interface AppTray {
  update(host: AgentHostStatus, agent: AgentState | null): void;
  destroy(): void;
}

export function createAppTray(trayDir: string, actions: { open(): void; quit(): void }): AppTray {
  const icon = (name: AgentStateName) => nativeImage.createFromPath(path.join(trayDir, `${name}.png`));
  const tray = new Tray(icon('starting'));
  let shown: TrayView | null = null;
  const render = (view: TrayView) => {
    if (shown && shown.image === view.image && shown.tooltip === view.tooltip) return;
    if (!shown || shown.image !== view.image) tray.setImage(icon(view.image));
    tray.setToolTip(view.tooltip);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: view.statusLine, enabled: false },
        { type: 'separator' },
        { label: 'Open Offshift', click: actions.open },
        { label: 'Quit Offshift', click: actions.quit },
      ]),
    );
    shown = view;
  };
  tray.on('click', actions.open);
  render(trayView({ status: 'starting' }, null));
  return {
    update: (host, agent) => render(trayView(host, agent)),
    destroy: () => tray.destroy(),
  };
}
