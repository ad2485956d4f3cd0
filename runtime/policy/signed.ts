/**
 * Whether a served policy document may be applied: signed (EIP-191 personal_sign over the
 * canonical JSON of its `policy`) by the pinned signer, well formed, and not older than the
 * version applied. Pure (ethers' verifyMessage is computation only); loaded lazily, because
 * ethers is large and most agents have no policy URL.
 */
import { verifyMessage } from 'ethers';
import { describeIssues } from '../settings/issues.js';
import { canonicalJson } from './canonical.js';
import { signedPolicyBodySchema, signedPolicyDocumentSchema, type SignedPolicyBody } from './schema.js';

export type Verdict =
  | { ok: true; body: SignedPolicyBody; /** The same version and content as the one applied. */ same: boolean }
  | { ok: false; why: string; version: number | null };

export function verifySignedPolicy(raw: unknown, signer: string, applied: SignedPolicyBody | null): Verdict {
  const version = peekVersion(raw);
  const refuse = (why: string): Verdict => ({ ok: false, why, version });

  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return refuse('the document is not a JSON object: serve { "policy": {…}, "signature": "0x…" }');
  if (!('signature' in raw)) return refuse('the document is not signed (no "signature"): sign it with the key of the pinned signer');
  const doc = signedPolicyDocumentSchema.safeParse(raw);
  if (!doc.success) return refuse(`the document is malformed (${describeIssues(doc.error)}): serve { "policy": {…}, "signature": "0x…" }`);

  let message: string;
  try {
    message = canonicalJson(doc.data.policy);
  } catch (error) {
    return refuse(`the policy cannot be put in canonical JSON (${(error as Error).message})`);
  }
  let recovered: string;
  try {
    recovered = verifyMessage(message, doc.data.signature);
  } catch (error) {
    return refuse(`the signature cannot be read (${(error as Error).message.split(' (')[0]}): sign canonicalJson(policy) with personal_sign`);
  }
  if (recovered.toLowerCase() !== signer.toLowerCase()) {
    return refuse(`signed by ${recovered}, not by the pinned signer ${signer}: sign with the pinned key, or change "source.signer" in the local policy file`);
  }

  const body = signedPolicyBodySchema.safeParse(doc.data.policy);
  if (!body.success) return refuse(`the signed policy is malformed (${describeIssues(body.error, 'policy')}): fix it and sign it again`);
  return order(body.data, applied, message);
}

/** The version a document claims, signed or not, for the refusal's record. */
function peekVersion(raw: unknown): number | null {
  const r = raw as { policy?: { version?: unknown }; version?: unknown } | null;
  const v = r?.policy?.version ?? r?.version;
  return typeof v === 'number' ? v : null;
}

/** Version order: higher applies, lower is refused, equal must be the very same policy. */
function order(body: SignedPolicyBody, applied: SignedPolicyBody | null, message: string): Verdict {
  if (!applied || body.version > applied.version) return { ok: true, body, same: false };
  if (body.version < applied.version) {
    return { ok: false, why: `version ${body.version} is older than version ${applied.version}, which is applied: publish a version above ${applied.version}`, version: body.version };
  }
  if (canonicalJson(applied) === message) return { ok: true, body, same: true };
  return { ok: false, why: `version ${body.version} is already applied with other content: give a changed policy a higher version`, version: body.version };
}
