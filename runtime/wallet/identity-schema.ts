/**
 * The wallet identity's files, as zod schemas: the record of the machine that made (or
 * imported) the key, beside the keystore, and the report left when a copied data folder was
 * found and this machine made its own identity.
 */
import { z } from 'zod';

export const IDENTITY_RECORD_VERSION = 1;

export const identityRecordSchema = z.object({
  version: z.literal(IDENTITY_RECORD_VERSION),
  /** The keystore's address this record speaks for. */
  address: z.string(),
  /** HMAC of the OS machine id (machine-id.ts); null when the OS gave none. */
  machineId: z.string().nullable(),
  hostname: z.string(),
  /** ISO time the key was made or imported here (or, for an install older than the record, first seen). */
  recordedAt: z.string(),
  /** How it was recorded: with the key, or on the first start of an install that had none. */
  how: z.enum(['created', 'imported', 'first-start']),
});
export type IdentityRecord = z.infer<typeof identityRecordSchema>;

export const copiedReportSchema = z.object({
  version: z.literal(IDENTITY_RECORD_VERSION),
  detectedAt: z.string(),
  /** The machine the data folder was copied from, as its record said. */
  from: z.object({ machineId: z.string().nullable(), hostname: z.string(), recordedAt: z.string() }),
  to: z.object({ machineId: z.string().nullable(), hostname: z.string() }),
  copiedAddress: z.string(),
  /** The copied keystore's new name in the data folder (kept, never deleted). */
  keptAs: z.string(),
  /** The identity this machine made at once (a password file was set), else null until the owner makes one. */
  newAddress: z.string().nullable(),
});
export type CopiedReport = z.infer<typeof copiedReportSchema>;
