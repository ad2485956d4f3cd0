/**
 * Reading offshift-bench's output: hostile bytes until zod has checked them. A missing, cut or
 * garbled document is a clear error that says what to do next.
 */
import { AppError } from '../errors.js';
import { programOutputSchema, type ProgramOutput } from './schema.js';

/** The program prints one JSON document of a few kilobytes; anything far larger is not it. */
export const MAX_PROGRAM_OUTPUT_BYTES = 1024 * 1024;

export function parseProgramOutput(stdout: string): ProgramOutput {
  if (stdout.length > MAX_PROGRAM_OUTPUT_BYTES) {
    throw new AppError('bench-output-invalid', `The benchmark program printed ${stdout.length} bytes, far more than its report: it is not offshift-bench. Rebuild it (npm run build).`);
  }
  const text = stdout.trim();
  if (!text) throw new AppError('bench-output-invalid', 'The benchmark program printed nothing: it may have crashed. Run it by hand (dist/bench/offshift-bench --quick) to see its error.');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AppError('bench-output-invalid', `The benchmark program's output is not JSON (${(error as Error).message}); it may have been cut short. Run it by hand to see why.`);
  }
  const parsed = programOutputSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new AppError('bench-output-invalid', `The benchmark program's report is not in the expected form (${issue ? `${issue.path.join('.') || 'document'}: ${issue.message}` : 'unknown'}). Rebuild it (npm run build) so it matches this Offshift.`);
  }
  return parsed.data;
}

/** A sentence for the program's own top-level error (no driver, driver too old, no GPU). */
export function programErrorMessage(error: { code: string; message: string }, cudaDriver?: number): string {
  const driver = cudaDriver ? ` (the driver supports CUDA ${Math.floor(cudaDriver / 1000)}.${(cudaDriver % 1000) / 10})` : '';
  switch (error.code) {
    case 'no-driver':
      return `No NVIDIA driver is loaded, so the CUDA benchmark cannot run (${error.message}). Install the NVIDIA driver, or use the WebGPU benchmark on the GPUs page.`;
    case 'driver-too-old':
      return `The NVIDIA driver is too old for the benchmark program${driver}: it needs a driver for CUDA 13 (580 or newer). Update the driver, or use the WebGPU benchmark on the GPUs page.`;
    case 'no-device':
      return `The driver sees no CUDA GPU (${error.message}). Check nvidia-smi, then run the benchmark again.`;
    case 'usage':
      return `The benchmark program refused its arguments (${error.message}): this Offshift and its benchmark program do not match; rebuild (npm run build).`;
    default:
      return `CUDA is not usable (${error.message}). Check nvidia-smi, then run the benchmark again.`;
  }
}
