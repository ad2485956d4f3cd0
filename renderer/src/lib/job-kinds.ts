/**
 * Which jobs can come to this computer, in words for the Marketplace page: GPU jobs need an NVIDIA
 * GPU and Docker's NVIDIA container runtime (what the runner's admission checks), else only CPU
 * jobs come. Read from gpu.list and the system check's `container-gpu` item. Pure.
 *
 * Without the demo buyer's own word (below), the check item is read; it passes with an NVIDIA CDI
 * spec too, which the runner does not accept, and its message tells the two apart.
 */
import type { Gpu } from '../../../runtime/gpu/schema.js';
import type { SystemCheck } from '../../../runtime/system/schema.js';

export interface JobKindsNote {
  /** 'gpu': GPU jobs can come; 'cpu': only CPU jobs; 'unknown': not known yet. */
  kind: 'gpu' | 'cpu' | 'unknown';
  text: string;
}

const TOOLKIT = 'Install the NVIDIA Container Toolkit to rent out the GPU itself.';

/**
 * `demoJobs`: what the demo buyer decided itself (market.status), which wins when present: it
 * knows the engine's runtimes, the driver and the card's generation, as the runner's admission does.
 */
export function jobKindsNote(gpus: readonly Pick<Gpu, 'vendor'>[] | null, check: SystemCheck | null, demoJobs: { gpu: boolean; reason: string } | null = null): JobKindsNote | null {
  if (demoJobs) return { kind: demoJobs.gpu ? 'gpu' : 'cpu', text: demoJobs.reason };
  if (gpus === null) return null;
  if (!gpus.some((g) => g.vendor === 'nvidia')) {
    const other = gpus.length > 0 ? `This computer's GPU${gpus.length === 1 ? ' is' : 's are'} not NVIDIA, and GPU jobs need an NVIDIA GPU for now` : 'No NVIDIA GPU was found on this computer';
    return { kind: 'cpu', text: `${other}: the demo buyer sends CPU jobs only.` };
  }
  const item = check?.items.find((i) => i.id === 'container-gpu');
  if (!item) return { kind: 'unknown', text: 'This computer has an NVIDIA GPU. Whether GPU jobs can come depends on the NVIDIA container runtime in Docker: run the System check to find out.' };
  if (item.status === 'pass' && /NVIDIA container runtime is available/i.test(item.message)) {
    return { kind: 'gpu', text: 'GPU jobs can come: this computer has an NVIDIA GPU and Docker has the NVIDIA container runtime (the demo buyer sends GPU jobs too).' };
  }
  if (item.status === 'pass') {
    return { kind: 'cpu', text: `Docker reaches the GPU through CDI only, and Offshift's jobs need the NVIDIA container runtime: the demo buyer sends CPU jobs only. Run \`sudo nvidia-ctk runtime configure --runtime=docker\` and restart Docker to rent out the GPU itself.` };
  }
  if (item.status === 'fail') return { kind: 'cpu', text: `No NVIDIA container runtime in Docker: the demo buyer sends CPU jobs only. ${TOOLKIT}` };
  return { kind: 'unknown', text: `Whether GPU jobs can come is not known: ${item.message}` };
}
