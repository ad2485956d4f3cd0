import { AGENT_NODE_FLAGS } from '../agent/node-flags.js';

/**
 * The system service's fixed places and names: one user, one group, one data folder, one port.
 * A studio installs the same on forty machines, so nothing here depends on who installs it.
 */
export interface ServiceConfig {
  /** The account the agent runs as (a system user, member of the Docker group). */
  user: string;
  /** The group whose members may read the API token (the desktop app's users). */
  group: string;
  /** The Docker socket's group. */
  dockerGroup: string;
  /** The data folder (settings, keystore, ledger, token). */
  home: string;
  /** The agent's port on 127.0.0.1. */
  port: number;
  /** The node binary and the built CLI it runs. */
  node: string;
  cli: string;
  /** V8 flags for the agent (runtime/agent/node-flags.ts). */
  nodeFlags: readonly string[];
}

export const SERVICE_NAME = 'offshift';
export const SYSTEMD_UNIT_PATH = '/etc/systemd/system/offshift.service';
export const LAUNCHD_LABEL = 'dev.offshift.agent';
export const LAUNCHD_PLIST_PATH = '/Library/LaunchDaemons/dev.offshift.agent.plist';

/** The defaults on Linux; `node` and `cli` are the ones running `offshift service install`. */
export function defaultServiceConfig(node: string, cli: string, platform: NodeJS.Platform = process.platform): ServiceConfig {
  const nodeFlags = AGENT_NODE_FLAGS;
  if (platform === 'darwin') return { user: '_offshift', group: '_offshift', dockerGroup: 'staff', home: '/Library/Application Support/Offshift/Service', port: 7878, node, cli, nodeFlags };
  if (platform === 'win32') return { user: 'NT SERVICE\\Offshift', group: 'Offshift Users', dockerGroup: 'docker-users', home: 'C:\\ProgramData\\Offshift\\Service', port: 7878, node, cli, nodeFlags };
  return { user: 'offshift', group: 'offshift', dockerGroup: 'docker', home: '/var/lib/offshift', port: 7878, node, cli, nodeFlags };
}

/** Where the desktop app looks for the service (OFFSHIFT_SERVICE_HOME / _PORT override, for tests). */
export function serviceLocation(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): { home: string; port: number } {
  const d = defaultServiceConfig('', '', platform);
  const port = env.OFFSHIFT_SERVICE_PORT ? Number(env.OFFSHIFT_SERVICE_PORT) : d.port;
  return { home: env.OFFSHIFT_SERVICE_HOME ?? d.home, port: Number.isInteger(port) && port > 0 && port < 65536 ? port : d.port };
}
