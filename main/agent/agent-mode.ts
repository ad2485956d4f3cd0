/**
 * Service or embedded: where the desktop app's agent lives. A pure decision from the service
 * probe and the environment, so each case is a unit test:
 * - the system service runs and this user may read its token: attach to it (and say so);
 * - otherwise host the agent in a utilityProcess as always, with a note when a service exists
 *   but cannot be used (so two agents never fight over the GPUs silently);
 * - OFFSHIFT_AGENT_MODE=embedded forces the app's own agent (tests, development).
 */
import type { ServiceProbe } from '../../runtime/service/probe.js';

export type AgentMode =
  | { mode: 'service'; port: number; token: string; home: string; message: string }
  | { mode: 'embedded'; note: string | null };

export function chooseAgentMode(env: NodeJS.ProcessEnv, probe: ServiceProbe): AgentMode {
  if (env.OFFSHIFT_AGENT_MODE === 'embedded') return { mode: 'embedded', note: null };
  switch (probe.state) {
    case 'running':
      return {
        mode: 'service',
        port: probe.port,
        token: probe.token,
        home: probe.home,
        message: `Connected to the Offshift system service (agent ${probe.version}, pid ${probe.pid}); it keeps working when this app is closed.`,
      };
    case 'no-access':
      return {
        mode: 'embedded',
        note: `The Offshift system service is installed (${probe.home}) but you may not attach to it: ask an administrator to run \`sudo usermod -aG offshift $USER\`, then log in again. Until then this app runs its own agent.`,
      };
    case 'not-running':
      return {
        mode: 'embedded',
        note: `The Offshift system service is installed but not running (no agent on port ${probe.port}): \`sudo systemctl start offshift\` starts it. Until then this app runs its own agent.`,
      };
    case 'absent':
      return { mode: 'embedded', note: null };
  }
}
