/**
 * The API contract: every command (request → response) and every event (agent → UI push),
 * each with a zod schema. The dispatcher, the typed client and the preload bridge all derive
 * from this one file. Payload schemas live beside their capability (runtime/<capability>/schema.ts)
 * and must stay free of node-only imports: the renderer type-checks against them.
 */
import { z } from 'zod';
import { agentInfoSchema, agentStateSchema, noticeSchema } from '../agent/schema.js';
import { desktopHostSchema, desktopSettingsInput, desktopViewSchema } from '../desktop/schema.js';
import { gpuSchema, telemetrySampleSchema, telemetryStatusSchema } from '../gpu/schema.js';
import { jobsRetentionInputSchema, retentionViewSchema } from '../jobs/retention-schema.js';
import { imageRecordSchema, imagesPinInputSchema, imagesSettingsInputSchema, imagesViewSchema, pruneResultSchema } from '../images/schema.js';
import { systemCheckSchema } from '../system/schema.js';
import {
  benchGpuResultSchema,
  benchHistoryInputSchema,
  benchHistoryOutputSchema,
  benchProgressEventSchema,
  benchRunInputSchema,
  benchRunOutputSchema,
  selfTestOutputSchema,
  webgpuSubmitInputSchema,
} from '../bench/schema.js';
import {
  jobIdInputSchema,
  jobLogEventSchema,
  jobProgressEventSchema,
  jobSchema,
  jobsCancelOutputSchema,
  jobsGetOutputSchema,
  jobsListInputSchema,
  jobsListOutputSchema,
  jobsLogsOutputSchema,
  jobsRunInputSchema,
  jobsRunOutputSchema,
  jobsOutputsOutputSchema,
  jobsOutputFileInputSchema,
  jobsOutputFileOutputSchema,
} from '../jobs/schema.js';
import { pauseInputSchema, runningProcessSchema, schedulePatchSchema, scheduleViewSchema } from '../schedule/schema.js';
import { policyStatusViewSchema } from '../policy/schema.js';
import {
  earningsByGpuInput,
  earningsByGpuOutput,
  earningsExportInput,
  earningsExportOutput,
  earningsJobsInput,
  earningsJobsOutput,
  earningsSeriesInput,
  earningsSeriesOutput,
  earningsSummaryInput,
  earningsSummaryOutput,
} from '../ledger/schema.js';
import {
  prepareWithdrawOutput,
  walletAddressOutput,
  walletAddVoucherInput,
  walletAddVoucherOutput,
  walletCreateInput,
  walletCreateOutput,
  walletExportInput,
  walletExportOutput,
  walletImportInput,
  walletLockOutput,
  walletReconcileInput,
  walletReconcileOutput,
  walletRedeemInput,
  walletRedeemOutput,
  walletSettingsInput,
  walletSettingsOutput,
  walletStatusSchema,
  walletUnlockInput,
  walletUpdateEvent,
  walletWithdrawInput,
  walletWithdrawOutput,
  withdrawInput,
} from '../wallet/schema.js';

import { marketSettingsInputSchema, marketStatusSchema } from '../market/schema.js';
import { metricsConfigInputSchema, metricsViewSchema } from '../metrics/schema.js';

const empty = z.object({}).strict();

export const commands = {
  // ── agent ──────────────────────────────────────────────────────────────
  'agent.info': { input: empty, output: agentInfoSchema },
  'agent.state': { input: empty, output: agentStateSchema },

  // ── gpu ────────────────────────────────────────────────────────────────
  'gpu.list': { input: empty, output: z.object({ gpus: z.array(gpuSchema) }) },
  'gpu.telemetry': {
    input: z.object({ sinceMs: z.number().int().nonnegative().optional() }).strict(),
    output: z.object({ status: telemetryStatusSchema, samples: z.array(telemetrySampleSchema) }),
  },

  // ── system ─────────────────────────────────────────────────────────────
  'system.check': { input: empty, output: systemCheckSchema },

  // ── jobs ───────────────────────────────────────────────────────────────
  'jobs.list': { input: jobsListInputSchema, output: jobsListOutputSchema },
  'jobs.get': { input: jobIdInputSchema, output: jobsGetOutputSchema },
  /** The kept log (capped; a marker says how much was dropped). Live lines come as `job.log`. */
  'jobs.logs': { input: jobIdInputSchema, output: jobsLogsOutputSchema },
  'jobs.cancel': { input: jobIdInputSchema, output: jobsCancelOutputSchema },
  /** Runs a job through the same runner as marketplace jobs; returns the queued record. */
  'jobs.run': { input: jobsRunInputSchema, output: jobsRunOutputSchema },
  /** The files the job left in its output folder (links skipped), newest first. */
  'jobs.outputs': { input: jobIdInputSchema, output: jobsOutputsOutputSchema },
  /** One picture from the output folder as a data URL (PNG/JPEG/GIF/WebP up to 4 MiB; paths that leave the folder or go through a link are refused). */
  'jobs.outputFile': { input: jobsOutputFileInputSchema, output: jobsOutputFileOutputSchema },
  /** The retention rule for finished jobs' outputs and logs, and what they use now. Empty input reads; any subset changes (`locked-by-policy` for an admin's field). */
  'jobs.retention': { input: jobsRetentionInputSchema, output: retentionViewSchema },

  // ── images (what Offshift pulled, its disk budget, pulls in progress) ─────
  /** Offshift's images, the budget and the disk, pulls in progress. */
  'images.list': { input: empty, output: imagesViewSchema },
  /** Removes every one of Offshift's images that no job uses and that is not pinned (`all`: pinned ones too). The owner's own images are never touched. */
  'images.prune': { input: z.object({ all: z.boolean().default(false) }).strict(), output: pruneResultSchema },
  /** Pins (never removed by a prune) or unpins one of Offshift's images, by ref, digest or a unique digest prefix. */
  'images.pin': { input: imagesPinInputSchema, output: imageRecordSchema },
  /** The budget settings. Empty input reads; any subset changes (`locked-by-policy` for an admin's field). */
  'images.settings': { input: imagesSettingsInputSchema, output: imagesViewSchema },
  /** Running apps, for the exclusive-apps picker. */
  'system.processes': { input: empty, output: z.object({ processes: z.array(runningProcessSchema) }) },

  // ── schedule ───────────────────────────────────────────────────────────
  'schedule.get': { input: empty, output: scheduleViewSchema },
  /** Any subset of the settings; refused with `locked-by-policy` for an admin's mandatory field. */
  'schedule.set': { input: schedulePatchSchema, output: scheduleViewSchema },
  /** Snooze: for some minutes, until a time, or (neither) until `agent.resume`. */
  'agent.pause': { input: pauseInputSchema, output: scheduleViewSchema },
  'agent.resume': { input: empty, output: scheduleViewSchema },
  /** The admin policy: source (file or signed URL), version applied, last check, last refusal. */
  'policy.status': { input: empty, output: policyStatusViewSchema },

  // ── wallet (amounts: decimal strings of base units; no command returns a key but create's
  //    one-time mnemonic and the password-checked export) ─────────────────
  'wallet.status': { input: empty, output: walletStatusSchema },
  'wallet.create': { input: walletCreateInput, output: walletCreateOutput },
  'wallet.import': { input: walletImportInput, output: walletAddressOutput },
  'wallet.unlock': { input: walletUnlockInput, output: walletAddressOutput },
  'wallet.lock': { input: empty, output: walletLockOutput },
  'wallet.export': { input: walletExportInput, output: walletExportOutput },
  /** Stores a voucher (checked against the network and this wallet) without sending anything. */
  'wallet.addVoucher': { input: walletAddVoucherInput, output: walletAddVoucherOutput },
  /** A voucher's content, stored ids, or (neither) every redeemable voucher. */
  'wallet.redeem': { input: walletRedeemInput, output: walletRedeemOutput },
  'wallet.reconcile': { input: walletReconcileInput, output: walletReconcileOutput },
  /** Step one of a withdrawal: checks and the fee; nothing is sent. */
  'wallet.prepareWithdraw': { input: withdrawInput, output: prepareWithdrawOutput },
  /** Step two: sends the prepared withdrawal. */
  'wallet.withdraw': { input: walletWithdrawInput, output: walletWithdrawOutput },
  /** Empty input reads; otherwise changes (a new network's chain id is checked against its RPC). */
  'wallet.settings': { input: walletSettingsInput, output: walletSettingsOutput },

  // ── marketplace ────────────────────────────────────────────────────────
  /** The connection and its reason, the network (demo or real), prices, recent offers, running market jobs. */
  'market.status': { input: empty, output: marketStatusSchema },
  /** Any subset of the market settings (`locked-by-policy` for an admin's field); returns the new status. */
  'market.settings': { input: marketSettingsInputSchema, output: marketStatusSchema },

  // ── metrics (Prometheus /metrics and the node_exporter textfile; off by default) ──
  /** Where metrics are served, the token file and a scrape config. Empty input reads; any subset changes (`locked-by-policy` for an admin's field). */
  'metrics.config': { input: metricsConfigInputSchema, output: metricsViewSchema },

  // ── bench (progress as `bench.progress` events) ───────────────────────
  /** Runs the CUDA benchmark on the NVIDIA GPUs (or one); optionally also in the job container. */
  'bench.run': { input: benchRunInputSchema, output: benchRunOutputSchema },
  /** Stored results, newest first. */
  'bench.history': { input: benchHistoryInputSchema, output: benchHistoryOutputSchema },
  /** Ready to earn: each requirement with a verdict and what to do. */
  'bench.selfTest': { input: empty, output: selfTestOutputSchema },
  /** The dashboard's WebGPU benchmark result (checked, scored, stored). */
  'bench.submitWebgpu': { input: webgpuSubmitInputSchema, output: benchGpuResultSchema },

  // ── earnings ───────────────────────────────────────────────────────────
  'earnings.summary': { input: earningsSummaryInput, output: earningsSummaryOutput },
  'earnings.series': { input: earningsSeriesInput, output: earningsSeriesOutput },
  'earnings.byGpu': { input: earningsByGpuInput, output: earningsByGpuOutput },
  'earnings.jobs': { input: earningsJobsInput, output: earningsJobsOutput },
  'earnings.exportCsv': { input: earningsExportInput, output: earningsExportOutput },

  // ── desktop (the app's own settings; the agent stores them, the desktop app applies them) ──
  /** Empty input reads; any subset changes (`locked-by-policy` for an admin's field). */
  'desktop.settings': { input: desktopSettingsInput, output: desktopViewSchema },
  /** The desktop app reports itself (mode, keychain, updates); `null` when it detaches. */
  'desktop.host': { input: z.object({ host: desktopHostSchema.nullable() }).strict(), output: desktopViewSchema },
  /** Checks the password by unlocking the wallet, then hands it to the desktop app for the OS keychain. */
  'desktop.rememberPassword': { input: z.object({ password: z.string().min(1).max(1024) }).strict(), output: desktopViewSchema },
} as const;

export const events = {
  'agent.state': agentStateSchema,
  'gpu.telemetry': z.object({ samples: z.array(telemetrySampleSchema) }),
  'gpu.telemetryStatus': telemetryStatusSchema,
  notice: noticeSchema,
  'job.update': jobSchema,
  'job.log': jobLogEventSchema,
  'job.progress': jobProgressEventSchema,
  'bench.progress': benchProgressEventSchema,
  'wallet.update': walletUpdateEvent,
  'market.update': marketStatusSchema,
  'desktop.settings': desktopViewSchema,
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
export type CommandInput<K extends CommandName> = z.input<Commands[K]['input']>;
export type CommandOutput<K extends CommandName> = z.output<Commands[K]['output']>;
/** A handler is a plain async function of its validated input: testable without any transport. */
export type Handler<K extends CommandName> = (input: z.output<Commands[K]['input']>) => Promise<CommandOutput<K>>;
export type Handlers = { [K in CommandName]: Handler<K> };

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<K extends EventName> = z.output<Events[K]>;

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(commands, name);
}
export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}
