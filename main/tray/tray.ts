/**
 * The tray, as a thin adapter: renders the pure menu description (menu.ts) with Electron's
 * Tray and Menu. The icon per state comes from resources/tray (1x and @2x; on macOS the
 * black-and-alpha "Template" images, which the menu bar tints for light and dark).
 */
import path from 'node:path';
import { Menu, nativeImage, Tray, type MenuItemConstructorOptions } from 'electron';
import type { AgentStateName } from '../../runtime/agent/schema.js';
import type { TrayAction, TrayMenu } from './menu.js';

export interface AppTray {
  render(menu: TrayMenu): void;
  destroy(): void;
}

/** The image file for a state: `<state>.png`, or `<state>Template.png` on macOS (@2x picked by Electron). */
export function trayImageFile(trayDir: string, state: AgentStateName, platform: NodeJS.Platform): string {
  return path.join(trayDir, platform === 'darwin' ? `${state}Template.png` : `${state}.png`);
}

export function toMenuTemplate(menu: TrayMenu, onAction: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return menu.items.map((item): MenuItemConstructorOptions => {
    if (item.kind === 'separator') return { type: 'separator' };
    if (item.kind === 'info') return { label: item.label, enabled: false };
    return { label: item.label, enabled: item.enabled, click: () => onAction(item.action) };
  });
}

export function createAppTray(trayDir: string, onAction: (action: TrayAction) => void, platform: NodeJS.Platform = process.platform): AppTray {
  const icon = (state: AgentStateName) => nativeImage.createFromPath(trayImageFile(trayDir, state, platform));
  const tray = new Tray(icon('starting'));
  let shownImage: AgentStateName | null = 'starting';
  let shownKey = '';
  tray.on('click', () => onAction('open'));
  return {
    render(menu) {
      const key = JSON.stringify(menu);
      if (key === shownKey) return;
      if (menu.image !== shownImage) tray.setImage(icon(menu.image));
      shownImage = menu.image;
      tray.setToolTip(menu.tooltip);
      const template = toMenuTemplate(menu, onAction);
      tray.setContextMenu(Menu.buildFromTemplate(template));
      // Electron's Tray has no getter for its menu: the Playwright test reads it here.
      if (process.env.OFFSHIFT_TEST_HOOKS === '1') (globalThis as { __offshiftTrayMenu?: unknown }).__offshiftTrayMenu = template;
      shownKey = key;
    },
    destroy: () => tray.destroy(),
  };
}
