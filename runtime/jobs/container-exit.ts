// What the engine says of a job's container once the wait on it ended: still running, exited
// (its exit code, an OOM kill, when it finished), gone, or unreachable.
import { isContainerGone, type EngineContainer } from '../engine/index.js';
import type { ContainerStatus } from './engine-restart.js';

export class ContainerExit {
  exitCode: number | null = null;
  oomKilled = false;
  finishedAt: number | null = null;
  /** Whether the engine has answered for the container. */
  exists = false;

  constructor(private readonly container: EngineContainer) {}

  /** Asks the engine again; what it says of an exited container is kept on this object. */
  async inspect(): Promise<ContainerStatus> {
    try {
      const info = await this.container.inspect();
      this.exists = true;
      if (info.State.Running || info.State.Paused) return 'running';
      this.exitCode = info.State.ExitCode;
      this.oomKilled = info.State.OOMKilled;
      const t = Date.parse(info.State.FinishedAt);
      this.finishedAt = Number.isFinite(t) && t > 0 ? t : null;
      return 'exited';
    } catch (error) {
      return isContainerGone(error) ? 'gone' : 'unreachable';
    }
  }
}
