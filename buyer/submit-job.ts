/** One job from start to end, for a command line: connect, submit, follow and pay, disconnect. */
import { BuyerClient } from './client.js';
import type { BuyerConnectOptions, BuyerResult, JobHandle, SubmitOptions } from './types.js';
import type { JobRequestInput } from '../protocol/index.js';

export interface SubmitJobOptions extends BuyerConnectOptions, SubmitOptions {
  job: JobRequestInput;
  /** Called once the market has given the job its id (for cancelling: `handle.cancel()`). */
  onSubmitted?: (handle: JobHandle) => void;
  signal?: AbortSignal;
}

/** Connects, submits one job, follows it to its end (paying each good report) and disconnects. */
export async function submitJob(options: SubmitJobOptions): Promise<BuyerResult> {
  const client = await BuyerClient.connect(options);
  try {
    const handle = await client.submit(options.job, { ...options, onEvent: undefined });
    options.onSubmitted?.(handle);
    if (options.signal) {
      if (options.signal.aborted) handle.cancel();
      else options.signal.addEventListener('abort', () => handle.cancel(), { once: true });
    }
    return await handle.result;
  } finally {
    client.close();
  }
}
