/** What an offer becomes here: the reservation its job needs, the job spec the runner gets, its local id. */
import crypto from 'node:crypto';
import { toJobId } from '../chain/job-id.js';
import type { JobRunner } from '../jobs/runner.js';
import type { JobSpecInput } from '../jobs/schema.js';
import type { Need } from '../jobs/reservations.js';
import { offerSchema, type Offer } from '../../protocol/index.js';

/** What an offer's job needs, as a reservation. */
export function offerNeed(offer: Offer): Need {
  const { job } = offer;
  return { kind: 'offer', gpus: job.gpus, minVramMiB: job.minVramMiB, cpus: job.cpus, memoryMiB: job.memoryMiB, diskMiB: job.diskMiB };
}

/** The job spec an offer becomes: the same runner, the same sandbox as any other job. */
export function offerToSpec(offer: Offer, localId: string): JobSpecInput {
  const { job } = offer;
  return {
    id: localId,
    marketJobId: toJobId(offer.jobId),
    image: job.image,
    command: job.command,
    env: job.env,
    gpus: job.gpus,
    cpus: job.cpus,
    memoryMiB: job.memoryMiB,
    diskMiB: job.diskMiB,
    outputMiB: job.outputMiB,
    timeoutSeconds: job.maxDurationSeconds,
    network: job.network,
  };
}

/** The local job id for a market job: `m-<market id>`, made unique when a local job already has it. */
export function localIdFor(runner: JobRunner, marketJobId: string): string {
  const base = `m-${marketJobId}`.slice(0, 56);
  return runner.get(base) ? `${base}-${crypto.randomBytes(3).toString('hex')}` : base;
}

/** Where an offer fails its schema, in words ("job.pricePerHour: at most …"). */
export function offerProblem(json: unknown): string {
  const parsed = offerSchema.safeParse((json as { offer?: unknown }).offer);
  if (parsed.success) return 'the message around it is malformed';
  const first = parsed.error.issues[0];
  return `${first?.path.length ? first.path.join('.') : 'offer'}: ${first?.message ?? 'invalid'}`.slice(0, 500);
}
