/**
 * The containers Offshift runs, as the engine sees them: made, started, signalled, frozen and
 * thawed, waited on, read (state, logs), listed by label and removed. Removing is always forced
 * and never fails: a container already gone is what was wanted.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { LogDemuxer } from '../sandbox/log-demux.js';
import type { Engine } from './connect.js';
import { engineUnreachable, isNotFound } from './errors.js';

/** What the engine says about a container (inspect). */
export type ContainerDetails = Docker.ContainerInspectInfo;
/** A container's line in a listing. */
export type ContainerSummary = Docker.ContainerInfo;
export type ContainerCreateOptions = Docker.ContainerCreateOptions;

export class EngineContainer {
  constructor(private readonly container: Docker.Container) {}

  get id(): string {
    return this.container.id;
  }

  start(): Promise<void> {
    return this.container.start().then(() => {});
  }

  /** Removes it, running or not; one already gone is no error, an engine that fails is. */
  async removeOrThrow(): Promise<void> {
    try {
      await this.container.remove({ force: true });
    } catch (error) {
      if (!isNotFound(error)) throw engineUnreachable(error);
    }
  }

  /** The folder at `path` inside it, as a tar stream. */
  async archive(path: string): Promise<NodeJS.ReadableStream & AsyncIterable<Buffer>> {
    return (await this.container.getArchive({ path })) as NodeJS.ReadableStream & AsyncIterable<Buffer>;
  }

  /**
   * Runs `cmd` inside it and returns its output (the first 4 KiB, stdout and stderr together)
   * and exit code, or null when it did not end within `timeoutMs`.
   */
  async exec(cmd: string[], timeoutMs: number): Promise<{ output: string; exitCode: number | null } | null> {
    const exec = await this.container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    let output = '';
    const demux = new LogDemuxer((_s, data) => {
      if (output.length < 4096) output += data.toString('utf8');
    });
    const ended = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      stream.on('data', (chunk: Buffer) => demux.push(chunk));
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
    if (!ended) {
      stream.destroy();
      return null;
    }
    let info = await exec.inspect();
    for (let i = 0; i < 50 && info.Running; i++) {
      await new Promise((r) => setTimeout(r, 20));
      info = await exec.inspect();
    }
    return { output, exitCode: info.ExitCode ?? null };
  }

  /** Removes it, running or not; a container already gone is no error. */
  async remove(): Promise<void> {
    await this.container.remove({ force: true }).catch(() => {});
  }

  pause(): Promise<void> {
    return this.container.pause().then(() => {});
  }

  unpause(): Promise<void> {
    return this.container.unpause().then(() => {});
  }

  signal(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    return this.container.kill({ signal }).then(() => {});
  }

  inspect(): Promise<ContainerDetails> {
    return this.container.inspect();
  }

  /** Resolves when it exits (rejects when it is removed, the engine goes away, or `signal` aborts). */
  async waitExit(signal: AbortSignal): Promise<void> {
    await this.container.wait({ abortSignal: signal });
  }

  /** Its output as it comes (multiplexed stdout/stderr frames). */
  async followLogs(): Promise<Readable> {
    return (await this.container.logs({ follow: true, stdout: true, stderr: true })) as unknown as Readable;
  }

  /** Its output so far, as stored by the engine (multiplexed frames). */
  async storedLogs(): Promise<Buffer> {
    const all = (await this.container.logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer | string;
    return Buffer.isBuffer(all) ? all : Buffer.from(all);
  }
}

export function containerById(docker: Engine, id: string): EngineContainer {
  return new EngineContainer(docker.getContainer(id));
}

export async function createContainer(docker: Engine, options: ContainerCreateOptions): Promise<EngineContainer> {
  return new EngineContainer(await docker.createContainer(options));
}

/** Every container, running or not, that carries all of `labels` (`key=value` or `key`). */
export async function listContainers(docker: Engine, labels: string[]): Promise<ContainerSummary[]> {
  try {
    return await docker.listContainers({ all: true, filters: { label: labels } });
  } catch (error) {
    throw engineUnreachable(error);
  }
}
