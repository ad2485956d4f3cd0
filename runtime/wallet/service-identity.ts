/** The wallet's key and this machine (identity-record.ts): a key copied from another machine refused, and the note when the data folder was copied. */
import { AppError } from '../errors.js';
import { compareIdentity, copiedSentence, readCopiedReport, readIdentityRecord, writeIdentityRecord } from './identity-record.js';
import type { MachineFacts } from './machine-id.js';

/** Refuses a key copied from another machine (the start's check moves it aside; until then it never signs). */
export async function refuseCopiedKey(home: string, address: string, machineFacts: () => Promise<MachineFacts>): Promise<void> {
  const facts = await machineFacts();
  const verdict = compareIdentity(readIdentityRecord(home), address, facts);
  if (verdict.kind === 'unrecorded') writeIdentityRecord(home, address, facts, 'first-start');
  if (verdict.kind === 'copied') {
    throw new AppError('wallet-copied', `${verdict.reason} The copied key does not unlock here: restart the agent and this machine makes its own identity (the copied keystore is kept aside).`);
  }
}

/** Why this data folder's wallet is not the one it was copied with, when it was copied (identity-check.ts); else null. */
export function identityNote(home: string, address: () => string | null): string | null {
  const report = readCopiedReport(home);
  if (!report) return null;
  let current: string | null = null;
  try {
    current = address();
  } catch {}
  return copiedSentence(report, current);
}
