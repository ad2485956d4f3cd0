/**
 * The last good signed policy, kept in the data folder (`policy-signed.json`) so that an agent
 * restarted without network keeps applying it. Written only after the document was verified;
 * read back only for the same URL and signer (a new pin starts afresh). Beside it,
 * `policy-checks.json`: the last check and the last refusal, so `policy status` still shows them
 * after a restart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { policyStatusViewSchema, signedPolicyBodySchema, signedPolicyDocumentSchema, type PolicySource, type PolicyStatusView, type SignedPolicyBody, type SignedPolicyDocument } from './schema.js';

const keptSchema = z.object({
  url: z.string(),
  signer: z.string(),
  etag: z.string().nullable(),
  appliedAt: z.string(),
  document: signedPolicyDocumentSchema,
});
export type KeptPolicy = z.infer<typeof keptSchema> & { body: SignedPolicyBody };

export const keptPolicyFile = (home: string): string => path.join(home, 'policy-signed.json');

/** The kept policy for this source, or null (none, another source, or unreadable). */
export function readKeptPolicy(home: string, source: PolicySource): KeptPolicy | null {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(keptPolicyFile(home), 'utf8'));
  } catch {
    return null;
  }
  const kept = keptSchema.safeParse(json);
  if (!kept.success || kept.data.url !== source.url || kept.data.signer.toLowerCase() !== source.signer.toLowerCase()) return null;
  const body = signedPolicyBodySchema.safeParse(kept.data.document.policy);
  return body.success ? { ...kept.data, body: body.data } : null;
}

export function writeKeptPolicy(home: string, source: PolicySource, document: SignedPolicyDocument, etag: string | null, at: Date): void {
  const kept = { url: source.url, signer: source.signer, etag, appliedAt: at.toISOString(), document };
  writeFileAtomic(keptPolicyFile(home), JSON.stringify(kept, null, 2) + '\n');
}

const checksSchema = z.object({
  url: z.string(),
  signer: z.string(),
  lastCheck: policyStatusViewSchema.shape.lastCheck,
  lastRefusal: policyStatusViewSchema.shape.lastRefusal,
});
export type PolicyChecks = Pick<PolicyStatusView, 'lastCheck' | 'lastRefusal'>;

export const policyChecksFile = (home: string): string => path.join(home, 'policy-checks.json');

/** The last check and refusal recorded for this source; none for another source or an unreadable file. */
export function readPolicyChecks(home: string, source: PolicySource): PolicyChecks {
  try {
    const c = checksSchema.safeParse(JSON.parse(fs.readFileSync(policyChecksFile(home), 'utf8')));
    if (c.success && c.data.url === source.url && c.data.signer.toLowerCase() === source.signer.toLowerCase()) return { lastCheck: c.data.lastCheck, lastRefusal: c.data.lastRefusal };
  } catch {
    // Absent or damaged: nothing recorded.
  }
  return { lastCheck: null, lastRefusal: null };
}

export function writePolicyChecks(home: string, source: PolicySource, checks: PolicyChecks): void {
  writeFileAtomic(policyChecksFile(home), JSON.stringify({ url: source.url, signer: source.signer, ...checks }, null, 2) + '\n');
}
