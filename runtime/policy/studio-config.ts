/**
 * A studio's pre-seeded configuration (`offshift service install --config FILE`): the admin
 * policy file's own shape (`mandatory` / `recommended` layers of settings sections, `source`,
 * `version`, `pauseUntil`, `description`; runtime/policy/schema.ts) plus one shorthand:
 * `wallet.payoutAddress`, written into the policy as `mandatory.payout.address` (locked: every
 * machine of the room pays that address, and its owner cannot change it). The policy is what is
 * written to the policy location (runtime/policy/paths.ts); a configuration-management tool that
 * drops the file there itself writes `mandatory.payout.address` directly. Pure: no I/O.
 */
import { z } from 'zod';
import { effectiveSection } from '../settings/effective.js';
import { settingsSections, type SectionName } from '../settings/sections.js';
import { describeIssues } from '../settings/issues.js';
import { addressSchema } from '../wallet/schema.js';
import { optional } from './load.js';
import { policyFileSchema, type LoadedPolicy, type PolicyFile } from './schema.js';

/** Where the room's earnings go: the `payout` settings section, locked (docs/studios.md). */
export const studioWalletSchema = z.object({ payoutAddress: addressSchema }).strict();

export const studioConfigSchema = policyFileSchema.extend({ wallet: studioWalletSchema.optional() }).strict();
export type StudioConfig = z.infer<typeof studioConfigSchema>;

export type ParsedStudioConfig =
  | {
      ok: true;
      /** The policy file to write (the input, its `wallet.payoutAddress` moved into `mandatory.payout.address`): what the agent reads. */
      policy: PolicyFile;
      /** The payout address it locks, from either place; null: none. */
      payoutAddress: string | null;
      /** Whether it used the `wallet.payoutAddress` shorthand (then it is not itself a policy file). */
      shorthand: boolean;
    }
  | { ok: false; message: string };

/**
 * Parses and checks a studio config: valid JSON, the schema (each problem named by its dotted
 * path, e.g. `mandatory.images.budgetGiB`), and that every section the admin layers touch still
 * gives a valid effective value with no user choices (e.g. a mandatory pause temperature below
 * the default resume temperature is mended, a minimum above a maximum is not).
 */
export function parseStudioConfig(text: string): ParsedStudioConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const parsed = studioConfigSchema.safeParse(json);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error) };
  const { wallet, ...written } = parsed.data;
  const inPolicy = written.mandatory?.payout?.address;
  if (wallet && inPolicy !== undefined && inPolicy?.toLowerCase() !== wallet.payoutAddress.toLowerCase()) {
    return { ok: false, message: `wallet.payoutAddress (${wallet.payoutAddress}) and mandatory.payout.address (${inPolicy}) name different payout addresses: keep one` };
  }
  const policy: PolicyFile = wallet ? { ...written, mandatory: { ...written.mandatory, payout: { ...written.mandatory?.payout, address: wallet.payoutAddress } } } : written;
  const loaded: LoadedPolicy = { state: 'ok', file: '', mandatory: policy.mandatory ?? {}, recommended: policy.recommended ?? {}, ...optional({ source: policy.source }) };
  const problems: string[] = [];
  for (const name of Object.keys(settingsSections) as SectionName[]) {
    if (loaded.mandatory[name] === undefined && loaded.recommended[name] === undefined) continue;
    const effective = effectiveSection(name, undefined, loaded);
    if (!effective.ok) problems.push(effective.message);
  }
  if (problems.length > 0) return { ok: false, message: `the settings it sets do not fit together: ${problems.join('; ')}` };
  // The policy as written (zod output drops nothing here: every schema is strict).
  return { ok: true, policy: policyFileSchema.parse(policy), payoutAddress: policy.mandatory?.payout?.address ?? null, shorthand: wallet !== undefined };
}

/** The policy file's text, as `service install --config` writes it. */
export function policyFileText(policy: PolicyFile): string {
  return JSON.stringify(policy, null, 2) + '\n';
}
