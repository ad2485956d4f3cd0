import { describe, expect, it } from 'vitest';
import { parseJobSpec } from '../../../runtime/jobs/outcome.js';
import { buildContainerSpec, type AssignedGpu } from '../../../runtime/sandbox/container-spec.js';
import { defaultSandboxPolicy, type SandboxPolicy } from '../../../runtime/sandbox/policy.js';

const IMAGE = 'sha256:' + 'a'.repeat(64);
const policy: SandboxPolicy = { ...defaultSandboxPolicy, agentInstance: 'agent-1', inputDir: '/home/u/.offshift/jobs/j1/input' };
const job = parseJobSpec(
  { id: 'j1', image: IMAGE, command: ['sh', '-c', 'echo hi'], env: { A: '1' }, cpus: 1.5, memoryMiB: 256, shmMiB: 32, diskMiB: 100, timeoutSeconds: 60 },
  () => 'x',
);
const spec = buildContainerSpec(job, [], policy);
const host = spec.HostConfig!;

describe('buildContainerSpec: identity and command', () => {
  it('runs the pinned image with the job command, env and a non-root user', () => {
    expect(spec.Image).toBe(IMAGE);
    expect(spec.Cmd).toEqual(['sh', '-c', 'echo hi']);
    expect(spec.Env).toEqual(['A=1', 'NVIDIA_VISIBLE_DEVICES=void', 'NVIDIA_DRIVER_CAPABILITIES=compute,utility']);
    expect(spec.User).toBe('65534:65534');
    expect(spec.User!.startsWith('0')).toBe(false);
    expect(spec.name).toBe('offshift-job-j1');
    expect(spec.Tty).toBe(false);
    expect(spec.OpenStdin).toBe(false);
  });
  it('sets the GPU runtime\'s variables itself, after the job\'s, so neither the job nor the image can widen them', () => {
    // A stored spec from before the schema refused these names: dropped here too.
    const old = { ...job, env: { A: '1', NVIDIA_VISIBLE_DEVICES: 'all', CUDA_VISIBLE_DEVICES: '0,1,2,3' } };
    expect(buildContainerSpec(old, [], policy).Env).toEqual(['A=1', 'NVIDIA_VISIBLE_DEVICES=void', 'NVIDIA_DRIVER_CAPABILITIES=compute,utility']);
    const gpus: AssignedGpu[] = [{ vendor: 'nvidia', key: 'nvidia:0', uuid: 'GPU-aaaa1111' }, { vendor: 'nvidia', key: 'nvidia:1', uuid: 'GPU-bbbb2222' }];
    expect(buildContainerSpec(old, gpus, policy).Env).toEqual(['A=1', 'NVIDIA_VISIBLE_DEVICES=GPU-aaaa1111,GPU-bbbb2222', 'NVIDIA_DRIVER_CAPABILITIES=compute,utility', 'CUDA_VISIBLE_DEVICES=0,1']);
  });
  it('refuses a policy that would run as root', () => {
    expect(() => buildContainerSpec(job, [], { ...policy, uid: 0 })).toThrow(/root/);
  });
  it('labels the container as managed, with the job and the agent instance', () => {
    expect(spec.Labels).toEqual({ 'io.offshift.managed': 'true', 'io.offshift.job': 'j1', 'io.offshift.agent': 'agent-1' });
  });
});

describe('buildContainerSpec: privilege', () => {
  it('drops every capability and forbids gaining privileges, keeping default seccomp/AppArmor', () => {
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.CapAdd).toEqual([]);
    expect(host.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect(host.SecurityOpt!.some((o: string) => /seccomp|apparmor/.test(o))).toBe(false);
    expect(host.Privileged).toBe(false);
  });
  it('never shares the host namespaces', () => {
    expect(host.NetworkMode).toBe('none');
    expect(spec.NetworkDisabled).toBe(true);
    expect(host.IpcMode).toBe('private');
    expect(host.PidMode).toBeUndefined();
    expect(host.UsernsMode).toBeUndefined();
    expect(host.UTSMode).toBeUndefined();
  });
});

describe('buildContainerSpec: filesystem', () => {
  it('has a read-only root, a capped noexec /tmp and a capped scratch owned by the job user', () => {
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.Tmpfs!['/tmp']).toBe('rw,nosuid,nodev,noexec,size=64m,mode=1777');
    expect(host.Tmpfs!['/scratch']).toBe('rw,nosuid,nodev,size=100m,uid=65534,gid=65534,mode=0700');
    expect(spec.WorkingDir).toBe('/scratch');
  });
  it('mounts only the job input folder, read-only, and never the docker socket', () => {
    expect(host.Binds).toEqual(['/home/u/.offshift/jobs/j1/input:/input:ro']);
    expect(host.Mounts).toBeUndefined();
    expect(JSON.stringify(spec)).not.toContain('docker.sock');
    expect(buildContainerSpec(job, [], { ...policy, inputDir: null }).HostConfig!.Binds).toEqual([]);
  });
  it('mounts the job output folder read-write at /output when the agent prepared one', () => {
    const b = buildContainerSpec(job, [], { ...policy, outputDir: '/home/u/.offshift/jobs/j1/output' }).HostConfig!.Binds;
    expect(b).toEqual(['/home/u/.offshift/jobs/j1/input:/input:ro', '/home/u/.offshift/jobs/j1/output:/output:rw']);
  });
  it('sets shared memory from the job', () => {
    expect(host.ShmSize).toBe(32 * 1024 * 1024);
  });
});

describe('buildContainerSpec: resources', () => {
  it('limits memory with swap equal to memory', () => {
    expect(host.Memory).toBe(256 * 1024 * 1024);
    expect(host.MemorySwap).toBe(host.Memory);
    expect(host.MemorySwappiness).toBe(0);
  });
  it('limits CPU, processes and core dumps; runs an init', () => {
    expect(host.NanoCpus).toBe(1_500_000_000);
    expect(host.PidsLimit).toBe(256);
    expect(host.Ulimits).toContainEqual({ Name: 'core', Soft: 0, Hard: 0 });
    expect(host.Init).toBe(true);
  });
  it('caps the engine log and never restarts or auto-removes (the runner records the end first)', () => {
    expect(host.LogConfig).toEqual({ Type: 'json-file', Config: { 'max-size': String(8 * 1024 * 1024), 'max-file': '1' } });
    expect(host.RestartPolicy).toEqual({ Name: 'no', MaximumRetryCount: 0 });
    expect(host.AutoRemove).toBe(false);
  });
});

describe('buildContainerSpec: GPUs and runtime', () => {
  it('passes no device without GPUs', () => {
    expect(host.DeviceRequests).toEqual([]);
    expect(host.Devices).toEqual([]);
  });
  it('names the assigned NVIDIA UUIDs, never Count -1', () => {
    const gpus: AssignedGpu[] = [
      { vendor: 'nvidia', key: 'GPU-1111', uuid: 'GPU-1111' },
      { vendor: 'nvidia', key: 'GPU-2222', uuid: 'GPU-2222' },
    ];
    const h = buildContainerSpec(job, gpus, policy).HostConfig!;
    expect(h.DeviceRequests).toEqual([{ Driver: 'nvidia', Count: 0, DeviceIDs: ['GPU-1111', 'GPU-2222'], Capabilities: [['gpu', 'compute', 'utility']] }]);
    expect(h.DeviceRequests!.every((r) => r.Count !== -1)).toBe(true);
    expect(h.Devices).toEqual([]);
  });
  it('passes AMD GPUs as /dev/kfd plus their render nodes only', () => {
    const h = buildContainerSpec(job, [{ vendor: 'amd', key: 'amd:1', renderNode: '/dev/dri/renderD129' }], policy).HostConfig!;
    expect(h.Devices).toEqual([
      { PathOnHost: '/dev/kfd', PathInContainer: '/dev/kfd', CgroupPermissions: 'rw' },
      { PathOnHost: '/dev/dri/renderD129', PathInContainer: '/dev/dri/renderD129', CgroupPermissions: 'rw' },
    ]);
    expect(h.DeviceRequests).toEqual([]);
  });
  it('uses runsc only when the policy says so', () => {
    expect(host.Runtime).toBeUndefined();
    expect(buildContainerSpec(job, [], { ...policy, useRunsc: true }).HostConfig!.Runtime).toBe('runsc');
  });
  it('refuses to build a networked container without an egress lease', () => {
    expect(() => buildContainerSpec({ ...job, network: { allow: ['example.com'] } }, [], policy)).toThrow(/egress lease/);
  });
  it('puts an allow-list job on the internal egress network at its leased address, behind the proxy, without IPv6', () => {
    const egress = { network: 'offshift-egress-a1', ip: '172.30.5.10', proxyUrl: 'http://172.30.5.1:41000' };
    const s = buildContainerSpec({ ...job, network: { allow: ['example.com'] } }, [], { ...policy, egress });
    expect(s.HostConfig!.NetworkMode).toBe('offshift-egress-a1');
    expect(s.NetworkDisabled).toBe(false);
    expect(s.NetworkingConfig).toEqual({ EndpointsConfig: { 'offshift-egress-a1': { IPAMConfig: { IPv4Address: '172.30.5.10' } } } });
    expect(s.Env).toEqual(expect.arrayContaining(['A=1', 'HTTPS_PROXY=http://172.30.5.1:41000', 'http_proxy=http://172.30.5.1:41000', 'NO_PROXY=']));
    expect(s.HostConfig!.Sysctls).toEqual({ 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1' });
    expect(s.HostConfig!.CapDrop).toEqual(['ALL']);
    // A lease is ignored for a network-none job.
    expect(buildContainerSpec(job, [], { ...policy, egress }).HostConfig!.NetworkMode).toBe('none');
  });
});
