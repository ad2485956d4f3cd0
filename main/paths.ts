import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AppPaths {
  /** dist/ */
  dist: string;
  preload: string;
  rendererDir: string;
  agentEntry: string;
  trayDir: string;
  icon: string;
}

/** Every path main needs, from the URL of the built dist/main/main.js (also inside app.asar). */
export function appPaths(mainModuleUrl: string): AppPaths {
  const mainDir = path.dirname(fileURLToPath(mainModuleUrl));
  const dist = path.resolve(mainDir, '..');
  const root = path.resolve(dist, '..');
  return {
    dist,
    preload: path.join(dist, 'preload', 'preload.cjs'),
    rendererDir: path.join(dist, 'renderer'),
    agentEntry: path.join(mainDir, 'agent-process.js'),
    trayDir: path.join(root, 'resources', 'tray'),
    icon: path.join(root, 'resources', 'icons', 'icon.png'),
  };
}
