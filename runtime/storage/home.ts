import os from 'node:os';
import path from 'node:path';

/** The data folder of the headless agent: `$OFFSHIFT_HOME`, else the OS default. */
export function resolveHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.OFFSHIFT_HOME) return path.resolve(env.OFFSHIFT_HOME);
  const home = env.HOME ?? os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Offshift');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Offshift');
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'offshift');
}
