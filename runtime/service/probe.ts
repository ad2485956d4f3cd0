/**
 * Is the Offshift system service running here, and may this user attach to it? Reads the
 * service's token (readable by the `offshift` group) and asks the agent who it is over the
 * same authenticated WebSocket the dashboard uses. Never throws.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createClient } from '../api/client.js';
import { TOKEN_FILE } from '../api/token.js';
import { connectWebSocket } from '../api/transports/websocket-client.js';

export type ServiceProbe =
  | { state: 'absent' }
  /** The service's data folder exists but its token cannot be read by this user. */
  | { state: 'no-access'; home: string }
  /** The token is readable but no agent answers on the port. */
  | { state: 'not-running'; home: string; port: number }
  | { state: 'running'; home: string; port: number; token: string; version: string; pid: number };

export async function probeService(location: { home: string; port: number }, timeoutMs = 1500): Promise<ServiceProbe> {
  const file = path.join(location.home, TOKEN_FILE);
  let token: string;
  try {
    token = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return { state: 'no-access', home: location.home };
    // The token is in the folder; a folder we cannot enter is no-access too.
    if (code === 'ENOENT') {
      try {
        fs.accessSync(location.home, fs.constants.X_OK);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EACCES') return { state: 'no-access', home: location.home };
      }
    }
    return { state: 'absent' };
  }
  if (!/^[0-9a-f]{64}$/.test(token)) return { state: 'absent' };
  try {
    const transport = await connectWebSocket(location.port, token, timeoutMs);
    const client = createClient(transport);
    try {
      const info = await Promise.race([
        client.call('agent.info'),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
      ]);
      return { state: 'running', home: location.home, port: location.port, token, version: info.version, pid: info.pid };
    } finally {
      client.close();
    }
  } catch {
    return { state: 'not-running', home: location.home, port: location.port };
  }
}
