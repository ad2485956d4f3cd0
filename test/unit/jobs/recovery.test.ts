import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { LABEL_GPUS } from '../../../runtime/jobs/active.js';
import { assignedGpusOf } from '../../../runtime/jobs/recovery.js';

const inspect = (labels: Record<string, string>, host: Record<string, unknown>) => ({ Config: { Labels: labels }, HostConfig: host }) as unknown as Docker.ContainerInspectInfo;

describe('the GPUs a re-adopted container was given', () => {
  it('an AMD job is re-adopted as AMD, with its render node (it came back as NVIDIA)', () => {
    const amd = [{ vendor: 'amd', key: 'amd:1', renderNode: '/dev/dri/renderD129' }];
    expect(assignedGpusOf(inspect({ [LABEL_GPUS]: JSON.stringify(amd) }, {}), ['amd:1'])).toEqual(amd);
  });
  it('NVIDIA from the label', () => {
    const nv = [{ vendor: 'nvidia', key: 'GPU-1234abcd-0000', uuid: 'GPU-1234abcd-0000' }];
    expect(assignedGpusOf(inspect({ [LABEL_GPUS]: JSON.stringify(nv) }, {}), ['GPU-1234abcd-0000'])).toEqual(nv);
  });
  it('a container of an older agent (no label): from its devices', () => {
    const host = {
      DeviceRequests: [{ Driver: 'nvidia', DeviceIDs: ['GPU-aaaa'] }],
      Devices: [{ PathOnHost: '/dev/kfd' }, { PathOnHost: '/dev/dri/renderD128' }],
    };
    expect(assignedGpusOf(inspect({}, host), ['GPU-aaaa', 'amd:0'])).toEqual([
      { vendor: 'nvidia', key: 'GPU-aaaa', uuid: 'GPU-aaaa' },
      { vendor: 'amd', key: 'amd:0', renderNode: '/dev/dri/renderD128' },
    ]);
  });
  it('a label that is not what the agent writes is not trusted: the devices decide', () => {
    const bad = JSON.stringify([{ vendor: 'amd', key: 'amd:0', renderNode: '/etc/passwd' }]);
    expect(assignedGpusOf(inspect({ [LABEL_GPUS]: bad }, { Devices: [{ PathOnHost: '/dev/dri/renderD130' }] }), ['amd:0'])).toEqual([
      { vendor: 'amd', key: 'amd:0', renderNode: '/dev/dri/renderD130' },
    ]);
    expect(assignedGpusOf(inspect({ [LABEL_GPUS]: '{not json' }, {}), [])).toEqual([]);
  });
});
