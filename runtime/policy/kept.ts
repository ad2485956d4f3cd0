/**
 * The last good signed policy, kept in the data folder (`policy-signed.json`) so that an agent
 * restarted without network keeps applying it. Written only after the document was verified;
 * read back only for the same URL and signer (a new pin starts afresh).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { signedPolicyBodySchema, signedPolicyDocumentSchema, type PolicySource, type SignedPolicyBody, type SignedPolicyDocument } from './schema.js';

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
