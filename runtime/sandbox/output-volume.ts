/**
 * /output for an agent that may not mount (the desktop app in the docker group, the system
 * service), with only the Docker API:
 * - a named volume of the local driver whose filesystem is a tmpfs (size and file count capped by
 *   the kernel, owned by the job's user, nosuid, nodev), mounted at /output in the job;
 * - a keeper container (keeper-image.ts; hardened like a job, holding the volume read-only) that
 *   keeps it mounted: the engine unmounts a tmpfs volume when its last user stops (moby's local
 *   driver counts its users), so the files outlive the job's container only while the keeper runs;
 * - when the job ends, the files are read back through the archive API of the keeper as a tar
 *   stream, written by our own reader (tar-read.ts: regular files and folders only, capped), and
 *   the keeper and the volume are removed.
 * Both carry the agent's label and the job id, so that a restarted agent finds what a killed one
 * left: it collects the files while the keeper still runs, and removes the rest.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { containerById, createContainer, createVolume, engineUnreachable, isConflict, isNotFound, listContainers, listVolumes, outputVolumeFailed, removeVolume, type ContainerDetails, type Engine } from '../engine/index.js';
import type { CollectedOutput, JobOutputs, JobOutputsOptions, PreparedOutput } from './job-outputs-contract.js';
import { ensureKeeperImage } from './keeper-image.js';
import { LABEL_AGENT, OUTPUT_DIR } from './policy.js';
import { extractTar } from './tar-read.js';

/** On the keeper and the volume: the job's id. */
export const LABEL_OUTPUT = 'io.offshift.output';
/** On the keeper and the volume: the output cap in MiB (what the files read back may total). */
export const LABEL_OUTPUT_MIB = 'io.offshift.output-mib';

const MiB = 1024 * 1024;
const outputMiBSchema = z.coerce.number().int().min(1).max(1024 * 1024);

/** The keeper's and the volume's name. */
export function outputVolumeName(jobId: string): string {
  return `offshift-output-${jobId}`;
}

/** The most files and folders an output may hold (the tmpfs's inode cap): 64 a MiB, 1024 to 100 000. */
export function outputEntryCap(sizeMiB: number): number {
  return Math.min(100_000, Math.max(1024, sizeMiB * 64));
}

/** The local driver's options for the volume: a tmpfs capped in size and files, owned by the job's user. */
export function outputVolumeOptions(sizeMiB: number, uid: number, gid: number): Record<string, string> {
  return { type: 'tmpfs', device: 'tmpfs', o: `size=${sizeMiB}m,nr_inodes=${outputEntryCap(sizeMiB)},uid=${uid},gid=${gid},mode=0700,nosuid,nodev` };
}

/** The engine's API wants NoCopy alone here; dockerode's type also asks for Labels and DriverConfig. */
const NO_COPY = { NoCopy: true } as NonNullable<Docker.MountSettings['VolumeOptions']>;

/** The keeper's create options: no network, read-only, no capabilities, tiny limits, the volume read-only. */
export function keeperSpec(jobId: string, imageId: string, sizeMiB: number, opts: Pick<JobOutputsOptions, 'agentInstance' | 'uid' | 'gid'>): Docker.ContainerCreateOptions {
  if (opts.uid === 0) throw new Error('the keeper never runs as root');
  return {
    name: outputVolumeName(jobId),
    Image: imageId,
    User: `${opts.uid}:${opts.gid}`,
    NetworkDisabled: true,
    AttachStdin: false,
    OpenStdin: false,
    Tty: false,
    Labels: { [LABEL_AGENT]: opts.agentInstance, [LABEL_OUTPUT]: jobId, [LABEL_OUTPUT_MIB]: String(sizeMiB) },
    HostConfig: {
      NetworkMode: 'none',
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: [],
      SecurityOpt: ['no-new-privileges:true'],
      ReadonlyRootfs: true,
      Memory: 16 * MiB,
      MemorySwap: 16 * MiB,
      NanoCpus: 100_000_000,
      PidsLimit: 4,
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      AutoRemove: false,
      LogConfig: { Type: 'json-file', Config: { 'max-size': '64k', 'max-file': '1' } },
      Mounts: [{ Type: 'volume', Source: outputVolumeName(jobId), Target: OUTPUT_DIR, ReadOnly: true, VolumeOptions: NO_COPY }],
    },
  };
}


export class VolumeOutputs implements JobOutputs {
  readonly kind = 'volume' as const;
  /** Jobs whose keeper and volume this agent removed and that no call has asked about since. */
  private readonly released = new Set<string>();
  /** Keepers being started: a discard waits for them, so that none starts after it. */
  private readonly starting = new Map<string, Promise<void>>();

  constructor(
    private readonly opts: JobOutputsOptions,
    private readonly keeperImage: (docker: Engine) => Promise<string> = ensureKeeperImage,
  ) {}

  private get docker() {
    return this.opts.docker;
  }

  async prepare(jobId: string, sizeMiB: number): Promise<PreparedOutput> {
    let imageId: string;
    try {
      imageId = await this.keeperImage(this.docker);
    } catch (error) {
      if (error instanceof AppError && error.code !== 'docker-unreachable') return { unavailable: error.message };
      throw error;
    }
    this.released.delete(jobId);
    const name = outputVolumeName(jobId);
    const makeVolume = () =>
      createVolume(this.docker, {
        Name: name,
        Driver: 'local',
        DriverOpts: outputVolumeOptions(sizeMiB, this.opts.uid, this.opts.gid),
        Labels: { [LABEL_AGENT]: this.opts.agentInstance, [LABEL_OUTPUT]: jobId, [LABEL_OUTPUT_MIB]: String(sizeMiB) },
      });
    try {
      // A volume of that name already there is reused: one with no keeper holds nothing (a tmpfs
      // lives only while mounted), and a job's id, hence its size, is its own.
      await makeVolume();
    } catch (error) {
      throw outputVolumeFailed(error);
    }
    const startKeeper = async () => {
      const keeper = await createContainer(this.docker, keeperSpec(jobId, imageId, sizeMiB, this.opts));
      await keeper.start();
    };
    // The keeper starts while the job's container is being created.
    const ready = startKeeper()
      .catch(async (error: unknown) => {
        // An earlier try's keeper still there (its name taken): remove it with its files, once.
        if (!isConflict(error)) throw error;
        await this.remove(jobId);
        this.released.delete(jobId);
        await makeVolume();
        await startKeeper();
      })
      .catch(async (error: unknown) => {
        await this.remove(jobId).catch(() => {});
        throw outputVolumeFailed(error);
      })
      .finally(() => this.starting.delete(jobId));
    this.starting.set(jobId, ready);
    // Awaited by the caller before it starts the job; never an unhandled rejection meanwhile.
    ready.catch(() => {});
    // NoCopy: the image's own files at /output are not copied in (the output is what the job writes).
    return { mount: { Type: 'volume', Source: name, Target: OUTPUT_DIR, ReadOnly: false, VolumeOptions: NO_COPY }, ready };
  }

  async collect(jobId: string): Promise<CollectedOutput> {
    const empty: CollectedOutput = { files: 0, bytes: 0, skipped: [], problem: null };
    const keeper = containerById(this.docker, outputVolumeName(jobId));
    let info: ContainerDetails;
    try {
      info = await keeper.inspect();
    } catch (error) {
      if (isNotFound(error)) {
        await this.discard(jobId);
        return empty;
      }
      throw engineUnreachable(error);
    }
    if (info.Config.Labels?.[LABEL_AGENT] !== this.opts.agentInstance) return { ...empty, problem: 'the output keeper belongs to another agent; left alone' };
    try {
      if (!info.State.Running) return { ...empty, problem: 'the output keeper stopped before the files were read back (the engine restarted?): the files are lost' };
      const sizeMiB = outputMiBSchema.safeParse(info.Config.Labels?.[LABEL_OUTPUT_MIB]);
      if (!sizeMiB.success) return { ...empty, problem: 'the output keeper has no valid size label' };
      const dir = path.join(this.opts.jobDir(jobId), 'output');
      const staging = `${dir}.collect`;
      fs.rmSync(staging, { recursive: true, force: true });
      const archive = await keeper.archive(OUTPUT_DIR);
      const read = await extractTar(archive, staging, {
        maxBytes: sizeMiB.data * MiB,
        // The folders and files the tmpfs can hold, and its own top folder.
        maxEntries: outputEntryCap(sizeMiB.data) + 1,
        stripComponents: 1,
      }).finally(() => (archive as unknown as { destroy?: () => void }).destroy?.());
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(staging, dir);
      return { files: read.files, bytes: read.bytes, skipped: read.skipped, problem: read.stopped };
    } finally {
      await this.discard(jobId);
    }
  }

  async discard(jobId: string): Promise<void> {
    await this.starting.get(jobId)?.catch(() => {});
    return this.remove(jobId);
  }

  private async remove(jobId: string): Promise<void> {
    // Already removed by this agent (collected, then released): nothing to ask the engine.
    if (this.released.delete(jobId)) return;
    const name = outputVolumeName(jobId);
    await containerById(this.docker, name).removeOrThrow();
    await removeVolume(this.docker, name);
    this.released.add(jobId);
  }

  async collectLeftovers(inHand: (jobId: string) => boolean): Promise<void> {
    const { docker, log } = this.opts;
    const mine = `${LABEL_AGENT}=${this.opts.agentInstance}`;
    const keepers = await listContainers(docker, [LABEL_OUTPUT, mine]);
    const volumes = await listVolumes(docker, [LABEL_OUTPUT, mine]);
    const ids = new Set([...keepers.map((k) => k.Labels[LABEL_OUTPUT] ?? ''), ...volumes.map((v) => v.Labels?.[LABEL_OUTPUT] ?? '')]);
    for (const id of ids) {
      if (!id || inHand(id) || !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/.test(id)) continue;
      try {
        const collected = await this.collect(id);
        log.info('output of a job that ended before the restart collected', { id, files: collected.files, bytes: collected.bytes, problem: collected.problem });
      } catch (error) {
        log.warn('collecting a left output failed; removing it', { id, error });
        await this.discard(id).catch(() => {});
      }
    }
  }
}
