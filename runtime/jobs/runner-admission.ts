// What the runner checks a job against before taking it: the admission context (the engine,
// the GPUs in use, held or out of service) and the reservation taken once admission passed.
import { AppError } from '../errors.js';
import type { AdmissionContext } from './admission.js';
import type { RunnerCore } from './core.js';
import { describeShortfall, type Capacity, type Need, type Reservations } from './reservations.js';

/**
 * Takes the job's reservation (synchronously): a local job's against what is free; a
 * marketplace job's by turning its accepted offer's reservation into the job's, checked again
 * against the capacity now. Throws `no-capacity` when it does not fit.
 */
export function reserve(reservations: Reservations, spec: { id: string; cpus: number; memoryMiB: number; diskMiB: number }, gpuKeys: string[], capacity: Capacity, offer: string | undefined): void {
  const need: Need = { kind: offer ? 'offer' : 'local', gpus: gpuKeys, cpus: spec.cpus, memoryMiB: spec.memoryMiB, diskMiB: spec.diskMiB };
  if (offer && !reservations.has(offer)) {
    throw new AppError('no-capacity', 'This job\'s accepted offer no longer holds its resources (it expired or was withdrawn), so it is not started.');
  }
  const taken = offer ? reservations.replace(offer, spec.id, need, capacity) : reservations.take(spec.id, need, capacity);
  if (!taken.ok) {
    throw new AppError(
      'no-capacity',
      `Not started: ${describeShortfall(taken.shortfall, capacity)}. Running jobs and accepted marketplace offers hold the rest; try again when one ends.`,
    );
  }
}

/** The runner's state as admission sees it; `reservation` is the caller's own hold, not counted against it. */
export function admissionContext(core: RunnerCore, reservations: Reservations, reservation?: string): AdmissionContext {
  return {
    exists: (id) => core.store.exists(id),
    networkReady: () => core.egress.ready(),
    engine: () => core.engine(),
    wantsRunsc: () => core.policy.useRunsc || core.options.sandboxSettings?.().runtime === 'gvisor',
    gpus: async () => {
      const all = core.options.listGpus ? await core.options.listGpus() : [];
      core.gpuHealth.refresh(all);
      return all;
    },
    unavailableGpus: () => {
      const busy = new Map(core.gpuHealth.unavailable);
      for (const a of core.active.values()) for (const g of a.gpus) busy.set(g.key, `in use by job ${a.id}`);
      for (const h of reservations.list()) if (h.id !== reservation) for (const g of h.gpuKeys) busy.set(g, `held by ${h.kind === 'offer' ? 'an accepted offer' : `job ${h.id}`}`);
      return busy;
    },
    checkNvidiaRuntime: core.options.checkNvidiaRuntime !== false,
  };
}
