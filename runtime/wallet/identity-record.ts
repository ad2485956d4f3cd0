/**
 * The record of which machine the wallet key belongs to (`<data>/wallet-identity.json`, 0600,
 * atomic), and the pure comparison of it with the machine the agent runs on: the same machine,
 * the same machine renamed, or a data folder copied from another machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { readSmallFile } from '../storage/small-file.js';
import { copiedReportSchema, IDENTITY_RECORD_VERSION, identityRecordSchema, type CopiedReport, type IdentityRecord } from './identity-schema.js';
import type { MachineFacts } from './machine-id.js';

export const IDENTITY_FILE = 'wallet-identity.json';
export const COPIED_REPORT_FILE = 'wallet-identity-copied.json';

export const identityPath = (home: string) => path.join(home, IDENTITY_FILE);
export const copiedReportPath = (home: string) => path.join(home, COPIED_REPORT_FILE);

function readJson<T>(file: string, parse: (v: unknown) => T): T | null {
  if (!fs.existsSync(file)) return null;
  try {
    return parse(JSON.parse(readSmallFile(file, 64 * 1024)));
  } catch {
    // A damaged record counts as none: the key is then recorded again as this machine's, as an old install's would be.
    return null;
  }
}

export function readIdentityRecord(home: string): IdentityRecord | null {
  return readJson(identityPath(home), (v) => identityRecordSchema.parse(v));
}

export function writeIdentityRecord(home: string, address: string, facts: MachineFacts, how: IdentityRecord['how'], at = new Date()): IdentityRecord {
  const record: IdentityRecord = { version: IDENTITY_RECORD_VERSION, address, machineId: facts.machineId, hostname: facts.hostname, recordedAt: at.toISOString(), how };
  writeFileAtomic(identityPath(home), JSON.stringify(record, null, 2) + '\n', 0o600);
  return record;
}

export function readCopiedReport(home: string): CopiedReport | null {
  return readJson(copiedReportPath(home), (v) => copiedReportSchema.parse(v));
}

export function writeCopiedReport(home: string, report: CopiedReport): void {
  writeFileAtomic(copiedReportPath(home), JSON.stringify(report, null, 2) + '\n', 0o600);
}

export type IdentityVerdict =
  | { kind: 'same'; reason: string }
  | { kind: 'renamed'; reason: string; from: string; to: string }
  | { kind: 'copied'; reason: string; record: IdentityRecord }
  | { kind: 'unrecorded'; reason: string }
  | { kind: 'unknown'; reason: string };

/** Pure: what the record says of the key `address` on the machine `facts`. */
export function compareIdentity(record: IdentityRecord | null, address: string, facts: MachineFacts): IdentityVerdict {
  if (!record) return { kind: 'unrecorded', reason: 'The wallet key has no machine record yet (an install from before the record): it is recorded as this machine’s.' };
  if (record.address.toLowerCase() !== address.toLowerCase()) {
    return { kind: 'unrecorded', reason: `The machine record speaks for another key (${record.address}), not the keystore's ${address}: the keystore was replaced by hand, and is recorded as this machine’s.` };
  }
  if (facts.machineId === null) return { kind: 'unknown', reason: `This machine gives no machine id (${facts.source}): a copied data folder cannot be told apart here.` };
  if (record.machineId === null) return { kind: 'unrecorded', reason: 'The key was recorded where no machine id could be read; it is recorded again with this machine’s.' };
  if (record.machineId !== facts.machineId) {
    return {
      kind: 'copied',
      record,
      reason: `The wallet key was made on machine ${record.machineId.slice(0, 8)} (host ${record.hostname}) on ${record.recordedAt}; this is machine ${facts.machineId.slice(0, 8)} (host ${facts.hostname}): the data folder was copied.`,
    };
  }
  if (record.hostname !== facts.hostname) {
    return { kind: 'renamed', from: record.hostname, to: facts.hostname, reason: `Same machine, renamed from ${record.hostname} to ${facts.hostname}: not a copy.` };
  }
  return { kind: 'same', reason: 'The wallet key was made on this machine.' };
}

/** What the wallet status and the notice say about a copied data folder, with this machine's identity now (null: none yet). */
export function copiedSentence(report: CopiedReport, currentAddress: string | null): string {
  const from = `This data folder was copied from machine ${report.from.machineId?.slice(0, 8) ?? 'unknown'} (host ${report.from.hostname}) on ${report.detectedAt.slice(0, 10)}`;
  const kept = `the copied key ${report.copiedAddress} is kept aside as ${report.keptAs} and never signs in from here`;
  if (currentAddress && currentAddress.toLowerCase() !== report.copiedAddress.toLowerCase()) {
    return `${from}; this machine made its own identity ${currentAddress} and never signs in with the copied key (${kept}).`;
  }
  return `${from}; ${kept}. This machine needs its own identity: create or import a wallet on the Wallet page (\`offshift wallet create\`); the market stays off until then.`;
}
