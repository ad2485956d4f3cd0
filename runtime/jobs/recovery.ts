/**
 * Recovery after a restart: re-adopts this agent's running containers (with the GPUs, vendor
 * included, and the egress address they were given), records the end of those that exited
 * meanwhile, removes leftovers ("Created" containers, containers with no record), and closes the
 * records of jobs whose container is gone.
 */
import { z } from 'zod';
import type { AssignedGpu } from '../sandbox/container-spec.js';
import { containerById, listContainers, type ContainerDetails, type EngineContainer } from '../engine/index.js';
import { LABEL_AGENT, LABEL_JOB, LABEL_MANAGED } from '../sandbox/policy.js';
import { LABEL_GPUS } from './active.js';
import type { RunnerCore } from './core.js';
import type { JobLifecycle } from './lifecycle.js';
import { UsageMeter } from './metering.js';
import { stopStateFromReason } from './outcome.js';
import { isFinalState, type JobSpec, type JobState } from './schema.js';
import { ranMsFromEvents } from './store.js';

export type RecoveryResult = {
  readopted: string[];
  finished: string[];
  removed: string[];
  lost: string[];
};

const assignedGpusSchema = z.array(
  z.union([
    z.object({ vendor: z.literal('nvidia'), key: z.string().min(1).max(200), uuid: z.string().min(1).max(200) }).strict(),
    z.object({ vendor: z.literal('amd'), key: z.string().min(1).max(200), renderNode: z.string().regex(/^\/dev\/dri\/renderD\d{1,4}$/) }).strict(),
  ]),
);

/**
 * The GPUs a container was given, vendor included: from its label, else (a container of an
 * older agent) from its devices: NVIDIA device requests by UUID, AMD render nodes.
 */
export function assignedGpusOf(info: ContainerDetails, keys: readonly string[]): AssignedGpu[] {
  const label = info.Config?.Labels?.[LABEL_GPUS];
  if (label) {
    try {
      const parsed = assignedGpusSchema.safeParse(JSON.parse(label));
      if (parsed.success) return parsed.data;
    } catch {}
  }
  const host = info.HostConfig as { DeviceRequests?: { Driver?: string; DeviceIDs?: string[] }[] | null; Devices?: { PathOnHost?: string }[] | null };
  const nvidia = new Set((host.DeviceRequests ?? []).filter((r) => r.Driver === 'nvidia').flatMap((r) => r.DeviceIDs ?? []));
  const renderNodes = (host.Devices ?? []).map((d) => d.PathOnHost ?? '').filter((p) => /^\/dev\/dri\/renderD\d+$/.test(p));
  let amd = 0;
  return keys.map((key): AssignedGpu => {
    if (nvidia.has(key)) return { vendor: 'nvidia', key, uuid: key };
    const node = renderNodes[amd++];
    if (node) return { vendor: 'amd', key, renderNode: node };
    return { vendor: 'nvidia', key, uuid: key };
  });
}

/** A container the agent made but never started (it stopped while starting the job): gone, and the job failed. */
async function discardUnstarted(core: RunnerCore, id: string, container: EngineContainer): Promise<void> {
  await container.remove();
  await core.outputs.discard(id).catch(() => {});
  core.store.transition(id, 'failed', 'start-interrupted', 'The agent stopped while starting this job; its container was never started and has been removed.', core.now(), { endedAt: core.now(), containerId: null });
  core.emit(core.store.get(id)!);
}

/** Unfinished jobs with no container: recorded as failed (never started, or their container lost). */
async function recordLost(core: RunnerCore, seen: ReadonlySet<string>, out: RecoveryResult): Promise<void> {
  for (const job of core.store.unfinished()) {
    if (seen.has(job.id) || core.active.has(job.id)) continue;
    out.lost.push(job.id);
    // No container was found: one in 'starting' was never created (a created one carries our labels).
    const never = job.state === 'queued' || job.state === 'pulling' || job.state === 'starting';
    // The agent prepares a job's /output before creating its container: a start cut short leaves it.
    // A job that ran keeps what it wrote there: collectLeftovers below reads it back.
    if (never) await core.outputs.discard(job.id).catch(() => {});
    core.store.transition(
      job.id,
      'failed',
      never ? 'agent-restarted' : 'container-lost',
      never ? 'The agent stopped before this job started; it did not run.' : "The job's container disappeared while the agent was not running; its outcome is unknown.",
      core.now(),
      { endedAt: core.now() },
    );
    core.emit(core.store.get(job.id)!);
  }
}

export async function recoverJobs(core: RunnerCore, lifecycle: JobLifecycle): Promise<RecoveryResult> {
  const out: RecoveryResult = { readopted: [], finished: [], removed: [], lost: [] };
  const docker = core.options.docker;
  const containers = await listContainers(docker, [`${LABEL_MANAGED}=true`, `${LABEL_AGENT}=${core.policy.agentInstance}`]);
  const seen = new Set<string>();
  for (const info of containers) {
    const id = info.Labels[LABEL_JOB] ?? '';
    const job = id ? core.store.get(id) : null;
    const container = containerById(docker, info.Id);
    if (core.active.has(id)) {
      seen.add(id);
      continue;
    }
    if (!job || isFinalState(job.state)) {
      await container.remove();
      out.removed.push(info.Id);
      core.log.info('removed a leftover container', { container: info.Id, job: id || null });
      continue;
    }
    seen.add(id);
    const inspect = await container.inspect();
    const status = inspect.State.Status;
    if (status === 'created') {
      await discardUnstarted(core, id, container);
      out.removed.push(info.Id);
      continue;
    }
    // A container that exited while the agent was down ran until it exited, not until now: the
    // buyer pays for the run, never for the agent's downtime.
    const exitedAt = status === 'running' || status === 'paused' ? NaN : Date.parse(inspect.State.FinishedAt);
    const ranUntil = Number.isFinite(exitedAt) && exitedAt > 0 ? Math.min(core.now(), exitedAt) : core.now();
    const ranMs = ranMsFromEvents(core.store.events(id), ranUntil);
    const active = core.track(job.spec as JobSpec, assignedGpusOf(inspect, job.gpus), job.state, job.spec.timeoutSeconds * 1000 - ranMs);
    active.containerId = info.Id;
    if (job.state === 'stopping') {
      const state = stopStateFromReason(job.reason);
      if (state) active.stop = { state, reason: job.reason, detail: job.detail };
    }
    active.meter = UsageMeter.resume(job.startedAt ?? core.now(), job.gpus, ranMs, ranUntil);
    if (status !== 'running' && status !== 'paused') {
      out.finished.push(id);
      await lifecycle.finish(active);
      continue;
    }
    out.readopted.push(id);
    await readoptNetwork(core, active, inspect);
    const state: JobState = status === 'paused' ? 'paused' : 'running';
    active.state = state;
    core.transition(active, state, 'readopted', `Re-adopted after the agent restarted (${state}).`);
    if (state === 'running') {
      active.runningSince = core.now();
      lifecycle.armTimeout(active);
    } else {
      active.meter.paused(core.now());
    }
    if (active.stop) void lifecycle.stop(active, active.stop, core.graceMs);
    active.log.replayFromStart();
    lifecycle.attachLogs(active);
    void lifecycle.finishWhenExited(active).catch((error: unknown) => lifecycle.crashed(active, error));
  }
  await recordLost(core, seen, out);
  // A job ends, is recorded, and only then is its /output collected: an agent killed in between
  // leaves a finished job's output (a mounted tmpfs, or a keeper and its volume). Collect those now.
  await core.outputs.collectLeftovers((id) => core.active.has(id));
  return out;
}

/** An allow-list job keeps its address, and the proxy listens where its environment says. */
async function readoptNetwork(core: RunnerCore, active: ReturnType<RunnerCore['track']>, inspect: ContainerDetails): Promise<void> {
  const spec = active.spec;
  if (spec.network === 'none') return;
  const egressIp = inspect.NetworkSettings.Networks?.[core.egress.networkName]?.IPAddress;
  if (!egressIp) return;
  const why = await core.egress.ready();
  if (why) {
    core.systemLog(active, `[offshift] re-adopted without network: ${why}\n`);
    return;
  }
  core.egress.adopt(active.id, spec.network.allow, egressIp);
  active.egressIp = egressIp;
  const named = (inspect.Config.Env ?? []).find((e) => e.startsWith('HTTPS_PROXY='))?.slice('HTTPS_PROXY='.length);
  const url = await core.egress.proxyUrl();
  if (named && url && named !== url) {
    core.log.warn('a re-adopted job names another proxy port than the one the agent has now', { id: active.id, named, now: url });
    core.systemLog(active, `[offshift] the egress proxy could not take its former port again; this job's proxy address (${named}) no longer answers.\n`);
  }
}
