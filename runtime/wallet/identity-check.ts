/**
 * At start, before any market sign-in: is the wallet key this machine's? A data folder copied
 * from another machine (a cloned disk image) has its copied keystore moved aside (kept, never
 * deleted) and this machine makes its own identity: at once with the service's password file,
 * else when the owner creates or imports one. The copied key never signs in from here.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { readSmallFile } from '../storage/small-file.js';
import type { CopiedReport } from './identity-schema.js';
import { compareIdentity, copiedSentence, identityPath, readIdentityRecord, writeCopiedReport, writeIdentityRecord, type IdentityVerdict } from './identity-record.js';
import { createKeystore, keystoreExists, keystorePath, readKeystore } from './keystore.js';
import type { MachineFacts } from './machine-id.js';

export interface IdentityCheckOptions {
  home: string;
  log: Logger;
  facts: MachineFacts;
  /** The service's wallet password file (`offshift agent --password-file`): the new identity uses the same password. */
  passwordFile?: string;
  scryptN?: number;
  now?: () => Date;
}

export type IdentityOutcome =
  | { kind: 'no-wallet' | 'keystore-problem' }
  | { kind: 'checked'; verdict: IdentityVerdict }
  | { kind: 'copied'; verdict: IdentityVerdict; report: CopiedReport; message: string };

/** `wallet-keystore.json` → `wallet-keystore.cloned-2026-11-23T10-20-30Z.json` (a free name). */
function asideName(home: string, file: string, at: Date): string {
  const stamp = at.toISOString().replace(/\.\d+Z$/, 'Z').replaceAll(':', '-');
  const { name, ext } = path.parse(file);
  for (let i = 0; ; i++) {
    const candidate = `${name}.cloned-${stamp}${i ? `-${i}` : ''}${ext}`;
    if (!fs.existsSync(path.join(home, candidate))) return candidate;
  }
}

function readPassword(file: string | undefined, log: Logger): string | null {
  if (!file) return null;
  try {
    const password = readSmallFile(file, 64 * 1024).replace(/\r?\n$/, '');
    if (password.length >= 8) return password;
    log.warn('the wallet password file is too short to make a new wallet (8 characters at least)', { file });
  } catch (error) {
    log.warn('cannot read the wallet password file', { file, reason: (error as Error).message });
  }
  return null;
}

export async function checkMachineIdentity(o: IdentityCheckOptions): Promise<IdentityOutcome> {
  if (!keystoreExists(o.home)) return { kind: 'no-wallet' };
  let address: string;
  try {
    address = readKeystore(o.home).address;
  } catch {
    return { kind: 'keystore-problem' }; // said by the wallet itself, and left untouched
  }
  const record = readIdentityRecord(o.home);
  const verdict = compareIdentity(record, address, o.facts);
  if (verdict.kind === 'unrecorded') {
    writeIdentityRecord(o.home, address, o.facts, 'first-start', o.now?.());
    o.log.info('wallet identity recorded for this machine', { address, hostname: o.facts.hostname, reason: verdict.reason });
  } else if (verdict.kind === 'renamed') {
    writeIdentityRecord(o.home, address, o.facts, record!.how, new Date(record!.recordedAt));
    o.log.info('this machine was renamed; the wallet identity stays', { from: verdict.from, to: verdict.to });
  } else if (verdict.kind === 'unknown') {
    o.log.warn('the wallet identity cannot be checked', { reason: verdict.reason });
  }
  if (verdict.kind !== 'copied') return { kind: 'checked', verdict };

  const at = o.now?.() ?? new Date();
  const keptAs = asideName(o.home, path.basename(keystorePath(o.home)), at);
  fs.renameSync(keystorePath(o.home), path.join(o.home, keptAs));
  fs.renameSync(identityPath(o.home), path.join(o.home, asideName(o.home, path.basename(identityPath(o.home)), at)));
  let newAddress: string | null = null;
  const password = readPassword(o.passwordFile, o.log);
  if (password !== null) {
    const { wallet } = await createKeystore(o.home, password, { scryptN: o.scryptN });
    writeIdentityRecord(o.home, wallet.address, o.facts, 'created', at);
    newAddress = wallet.address;
  }
  const report: CopiedReport = {
    version: 1,
    detectedAt: at.toISOString(),
    from: { machineId: verdict.record.machineId, hostname: verdict.record.hostname, recordedAt: verdict.record.recordedAt },
    to: { machineId: o.facts.machineId, hostname: o.facts.hostname },
    copiedAddress: address,
    keptAs,
    newAddress,
  };
  writeCopiedReport(o.home, report);
  const message = copiedSentence(report, newAddress);
  o.log.warn('this data folder was copied from another machine', { copiedAddress: address, keptAs, newAddress, reason: verdict.reason });
  return { kind: 'copied', verdict, report, message };
}
