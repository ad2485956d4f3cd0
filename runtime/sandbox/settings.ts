import { z } from 'zod';

/**
 * The sandbox's section of the settings file: `{ "sandbox": { "runtime": "gvisor" } }` runs jobs
 * under gVisor (`runsc`). An admin can make it mandatory for every workstation in the policy
 * file. Pure zod (the renderer type-checks the settings sections).
 */
export const sandboxSettingsSchema = z
  .object({
    /** "default": Docker's runtime (runc); "gvisor": runsc, a user-space kernel between the job and the host. */
    runtime: z.enum(['default', 'gvisor']),
  })
  .strict();
export type SandboxSettings = z.infer<typeof sandboxSettingsSchema>;

export const sandboxPatchSchema = sandboxSettingsSchema.partial().strict();

export const defaultSandboxSettings: SandboxSettings = { runtime: 'default' };

export const GVISOR_MISSING_HELP =
  'The settings ask for jobs to run under gVisor, but the Docker engine does not list the runsc runtime, so this job is refused rather than run with less isolation. Install gVisor (runsc) and register it with Docker (`sudo runsc install` then restart Docker), or set "sandbox.runtime" back to "default".';
