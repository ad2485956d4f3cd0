/**
 * What the buyer pays for: every usage report is checked against what the buyer knows (the job,
 * the provider's signature, the reports before it), and never paid for more time than the buyer
 * itself saw pass. Pure apart from signature recovery.
 */
import { getAddress, verifyMessage } from 'ethers';
import { amountForSeconds, usageReportText, type JobRequest, type UsageReport } from '../protocol/index.js';

/** Time slack allowed on a report's claimed seconds versus the job's maximum duration. */
const CLOCK_SLACK_S = 10;
/**
 * What a report may claim beyond the wall time the buyer saw pass: the provider starts counting
 * a moment before its `job-started` reaches the buyer, and rounds down to whole seconds.
 */
export const PAY_SKEW_S = 2;

/**
 * Checks a usage report against what the buyer knows. Returns the problem, or null when it is
 * good to pay. Pure apart from signature recovery.
 */
export function checkUsageReport(
  report: UsageReport,
  ctx: { jobId: string; job: JobRequest; pricePerHour: string; provider: string | null; lastSeq: number | null; lastUsage: number; usedBefore?: number },
): string | null {
  if (report.jobId !== ctx.jobId) return `the report is for job ${report.jobId}`;
  if (ctx.pricePerHour !== ctx.job.pricePerHour) return `the market relays a price of ${ctx.pricePerHour}, not the job's ${ctx.job.pricePerHour}`;
  if (ctx.provider && report.provider.toLowerCase() !== ctx.provider.toLowerCase()) return `the report names ${report.provider}, not the job's provider ${ctx.provider}`;
  const { signature, ...unsigned } = report;
  let signer: string;
  try {
    signer = verifyMessage(usageReportText(unsigned), signature);
  } catch {
    return 'the signature cannot be read';
  }
  if (signer !== getAddress(report.provider.toLowerCase())) return `the signature is not the provider's (it recovers ${signer})`;
  if (ctx.lastSeq !== null && report.seq <= ctx.lastSeq) return `report ${report.seq} is not after report ${ctx.lastSeq}`;
  if (report.usageSeconds < ctx.lastUsage) return `usage went back from ${ctx.lastUsage} s to ${report.usageSeconds} s`;
  const due = amountForSeconds(report.usageSeconds, BigInt(ctx.job.pricePerHour));
  if (report.amountDue !== due.toString()) return `the amount due ${report.amountDue} is not ${report.usageSeconds} s at ${ctx.job.pricePerHour} per hour (${due})`;
  const maxSeconds = ctx.job.maxDurationSeconds + ctx.job.reportIntervalSeconds + CLOCK_SLACK_S;
  const usedBefore = ctx.usedBefore ?? 0;
  if (report.usageSeconds + usedBefore > maxSeconds) return usedBefore > 0 ? `${report.usageSeconds} s, after ${usedBefore} s run by earlier attempts, is beyond the job's maximum duration` : `${report.usageSeconds} s is beyond the job's maximum duration`;
  return null;
}

/**
 * How many of a good report's claimed seconds the buyer pays: never more than the wall time it saw
 * pass since the job started (its own clock, from the `running` it was told, else the assignment),
 * nor more growth since its last paid report than the time since that report: usage cannot run
 * faster than the clock, so seconds not claimed when they passed (a pause) cannot be claimed later.
 * Each bound allows PAY_SKEW_S. Pure.
 */
export function payableSeconds(claimed: number, ctx: { startedAt: number | null; paidSeconds: number; paidAt: number | null; now: number }): { seconds: number; problem: string | null } {
  const start = ctx.startedAt ?? ctx.now;
  const sinceStart = Math.floor(Math.max(0, ctx.now - start) / 1000) + PAY_SKEW_S;
  const sinceLast = ctx.paidSeconds + Math.floor(Math.max(0, ctx.now - (ctx.paidAt ?? start)) / 1000) + PAY_SKEW_S;
  const seconds = Math.max(ctx.paidSeconds, Math.min(claimed, sinceStart, sinceLast));
  if (seconds >= claimed) return { seconds: claimed, problem: null };
  const why =
    sinceStart <= sinceLast
      ? `it claims ${claimed} s, but only ${sinceStart - PAY_SKEW_S} s have passed since the job started (${PAY_SKEW_S} s allowed for delays)`
      : `it claims ${claimed - ctx.paidSeconds} s more than the last paid report, but only ${sinceLast - ctx.paidSeconds - PAY_SKEW_S} s have passed since it (${PAY_SKEW_S} s allowed for delays)`;
  return { seconds, problem: `paid ${seconds} s of the ${claimed} s claimed: ${why}` };
}
