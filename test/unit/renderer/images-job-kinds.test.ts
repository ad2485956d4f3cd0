import { describe, expect, it } from 'vitest';
import { jobKindsNote } from '../../../renderer/src/lib/job-kinds.js';
import type { CheckItem, SystemCheck } from '../../../runtime/system/schema.js';

const check = (item: Omit<CheckItem, 'id' | 'title'> | null): SystemCheck => ({
  checkedAt: '2026-01-01T00:00:00Z',
  items: item ? [{ id: 'container-gpu', title: 'GPU access for containers', ...item }] : [],
});
const nvidia = [{ vendor: 'nvidia' as const }];

describe('the Marketplace page’s note on which jobs come', () => {
  it('GPU jobs where the GPU is NVIDIA and Docker has the NVIDIA container runtime', () => {
    const note = jobKindsNote(nvidia, check({ status: 'pass', message: 'The NVIDIA container runtime is available to Docker (runtimes: nvidia, runc).' }));
    expect(note?.kind).toBe('gpu');
    expect(note?.text).toMatch(/^GPU jobs can come/);
  });

  it('CPU jobs only without the runtime, saying what to install', () => {
    const note = jobKindsNote(nvidia, check({ status: 'fail', message: 'Docker cannot give containers the NVIDIA GPU: …' }));
    expect(note).toEqual({
      kind: 'cpu',
      text: 'No NVIDIA container runtime in Docker: the demo buyer sends CPU jobs only. Install the NVIDIA Container Toolkit to rent out the GPU itself.',
    });
  });

  it('CPU jobs only with CDI alone (the check passes, the runner asks for the runtime)', () => {
    const note = jobKindsNote(nvidia, check({ status: 'pass', message: 'Docker has NVIDIA CDI devices (/etc/cdi/nvidia.yaml).' }));
    expect(note?.kind).toBe('cpu');
    expect(note?.text).toContain('nvidia-ctk runtime configure');
  });

  it('CPU jobs only without an NVIDIA GPU; nothing said before the GPUs are known; unknown before the check', () => {
    expect(jobKindsNote([], null)?.text).toBe('No NVIDIA GPU was found on this computer: the demo buyer sends CPU jobs only.');
    expect(jobKindsNote([{ vendor: 'amd' }], null)?.text).toMatch(/^This computer's GPU is not NVIDIA/);
    expect(jobKindsNote(null, null)).toBeNull();
    expect(jobKindsNote(nvidia, check(null))?.kind).toBe('unknown');
    expect(jobKindsNote(nvidia, check({ status: 'warn', message: 'Not checked: the Docker engine is not reachable.' }))?.text).toContain('not reachable');
  });

  it("the demo buyer's own decision wins when the market status carries it", () => {
    expect(jobKindsNote(nvidia, null, { gpu: true, reason: 'GPU jobs too: every other demo job renders on the RTX 3080.' })).toEqual({ kind: 'gpu', text: 'GPU jobs too: every other demo job renders on the RTX 3080.' });
    expect(jobKindsNote(nvidia, check({ status: 'pass', message: 'NVIDIA container runtime is available.' }), { gpu: false, reason: 'CPU jobs only: the driver is older than 580.' })?.kind).toBe('cpu');
  });
});
