/**
 * The buyer's room: a buyer of the marketplace as a library (BuyerClient, submitJob), built on the
 * shared protocol (protocol/). What the other rooms import from it.
 */
export { BuyerClient } from './client.js';
export { submitJob, type SubmitJobOptions } from './submit-job.js';
export { checkUsageReport, PAY_SKEW_S, payableSeconds } from './report-check.js';
export { safeOutputPath } from './outputs.js';
export type { AttemptResult, BuyerConnectOptions, BuyerEvent, BuyerResult, JobHandle, OutputFile, SubmitOptions } from './types.js';
