/**
 * The admin policy file: `mandatory` values override the user's and are locked; `recommended`
 * values are defaults the user may change. Both hold any subset of the settings file's sections.
 * Pure zod.
 */
import { z } from 'zod';
import { settingsSections, type SectionName, type SectionPatch } from '../settings/sections.js';

const layerShape = Object.fromEntries(Object.entries(settingsSections).map(([name, s]) => [name, s.patch.optional()])) as {
  [K in SectionName]: z.ZodOptional<(typeof settingsSections)[K]['patch']>;
};
export const policyLayerSchema = z.object(layerShape).strict();
export type PolicyLayer = { [K in SectionName]?: SectionPatch<K> };

export const policyFileSchema = z
  .object({
    /** Free text for the administrator's own notes. */
    description: z.string().optional(),
    mandatory: policyLayerSchema.optional(),
    recommended: policyLayerSchema.optional(),
  })
  .strict();
export type PolicyFile = z.infer<typeof policyFileSchema>;

/** The policy as the agent holds it. `invalid` means: report it, and run no work. */
export type LoadedPolicy =
  | { state: 'none'; file: string }
  | { state: 'ok'; file: string; mandatory: PolicyLayer; recommended: PolicyLayer }
  | { state: 'invalid'; file: string; message: string };

export const noPolicy: LoadedPolicy = { state: 'none', file: '' };
