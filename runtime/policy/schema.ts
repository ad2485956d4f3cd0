/**
 * The admin policy file: `mandatory` values override the user's and are locked; `recommended`
 * values are defaults the user may change. Both hold any subset of the settings file's sections.
 * Optionally `pauseUntil` (the whole room paused until then), a `version`, and a `source`: a URL
 * serving the policy signed by a pinned address (runtime/policy/follow.ts). Pure zod.
 */
import { z } from 'zod';
import { settingsSections, type SectionName, type SectionPatch } from '../settings/sections.js';

const layerShape = Object.fromEntries(Object.entries(settingsSections).map(([name, s]) => [name, s.patch.optional()])) as {
  [K in SectionName]: z.ZodOptional<(typeof settingsSections)[K]['patch']>;
};
export const policyLayerSchema = z.object(layerShape).strict();
export type PolicyLayer = { [K in SectionName]?: SectionPatch<K> };

const isoTime = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(new Date(s).getTime()), 'must be an ISO 8601 date and time, e.g. 2026-12-05T18:00:00Z');

/** Plain http only to this computer (tests, a local relay); anything else must be https. */
export function isAllowedPolicyUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

export const policySourceSchema = z
  .object({
    url: z.string().refine(isAllowedPolicyUrl, 'must be an https:// URL (http:// only for 127.0.0.1 or localhost)'),
    /** The Ethereum address whose signature a served policy must carry. Pinned here, never by the served document. */
    signer: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an Ethereum address (0x and 40 hex digits)'),
    /** Seconds between checks (a random 0–10 % is added so a room does not ask at once). */
    everySeconds: z.number().int().min(1).max(86_400).optional(),
  })
  .strict();
export type PolicySource = z.infer<typeof policySourceSchema>;
export const DEFAULT_POLICY_CHECK_SECONDS = 300;

const bodyShape = {
  /** Free text for the administrator's own notes. */
  description: z.string().optional(),
  mandatory: policyLayerSchema.optional(),
  recommended: policyLayerSchema.optional(),
  /** No work runs anywhere this policy applies until then ("pause the whole room now"). */
  pauseUntil: isoTime.optional(),
};

export const policyFileSchema = z
  .object({
    ...bodyShape,
    /** The admin's own number for this policy, reported by `policy.status`. */
    version: z.number().int().min(0).optional(),
    source: policySourceSchema.optional(),
  })
  .strict();
export type PolicyFile = z.infer<typeof policyFileSchema>;

/** What the signer signs: the policy body, a version that only grows, and when it was issued. */
export const signedPolicyBodySchema = z
  .object({ ...bodyShape, version: z.number().int().min(1), issuedAt: isoTime })
  .strict();
export type SignedPolicyBody = z.infer<typeof signedPolicyBodySchema>;

/** The served document: `signature` is EIP-191 personal_sign over canonicalJson(policy). */
export const signedPolicyDocumentSchema = z
  .object({ policy: z.record(z.string(), z.unknown()), signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'must be a 65-byte hex signature') })
  .strict();
export type SignedPolicyDocument = z.infer<typeof signedPolicyDocumentSchema>;

/** The policy as the agent holds it. `invalid` means: report it, and run no work. */
export type LoadedPolicy =
  | { state: 'none'; file: string }
  | {
      state: 'ok';
      /** The local file, or the URL a signed policy came from. */
      file: string;
      mandatory: PolicyLayer;
      recommended: PolicyLayer;
      pauseUntil?: string;
      version?: number;
      /** The local file's pin of a signed policy URL (never set by the served document). */
      source?: PolicySource;
    }
  | { state: 'invalid'; file: string; message: string };

export const noPolicy: LoadedPolicy = { state: 'none', file: '' };

const refusalSchema = z.object({ at: z.string(), why: z.string(), version: z.number().nullable() });
export type PolicyRefusal = z.infer<typeof refusalSchema>;

/** `policy.status`: where the policy comes from, which version applies, the last check and refusal. */
export const policyStatusViewSchema = z.object({
  source: z.enum(['none', 'file', 'url']),
  file: z.string(),
  url: z.string().nullable(),
  signer: z.string().nullable(),
  state: z.enum(['none', 'ok', 'invalid']),
  message: z.string(),
  /** The version applied: the signed document's, or the local file's own `version`; null when none. */
  version: z.number().nullable(),
  issuedAt: z.string().nullable(),
  pauseUntil: z.string().nullable(),
  lastCheck: z.object({ at: z.string(), result: z.string() }).nullable(),
  lastRefusal: refusalSchema.nullable(),
});
export type PolicyStatusView = z.infer<typeof policyStatusViewSchema>;
