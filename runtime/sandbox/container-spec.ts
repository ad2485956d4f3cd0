/**
 * The one place a job becomes Docker create options. Pure: (job, assigned GPUs, policy) in,
 * dockerode's ContainerCreateOptions out, so every setting can be read and tested here.
 * docs/sandbox.md says why each setting is what it is.
 */
import type Docker from 'dockerode';
import { RESERVED_ENV, type JobSpec } from '../jobs/schema.js';
import { INPUT_DIR, OUTPUT_DIR, LABEL_AGENT, LABEL_JOB, LABEL_MANAGED, SCRATCH_DIR, type SandboxPolicy } from './policy.js';

/** A GPU given to one job. NVIDIA GPUs are named by UUID; AMD ones by their render node. */
export type AssignedGpu =
  | { vendor: 'nvidia'; key: string; uuid: string }
  | { vendor: 'amd'; key: string; renderNode: string };

const MiB = 1024 * 1024;

export function containerName(jobId: string): string {
  return `offshift-job-${jobId}`;
}

/**
 * The GPU runtime's variables, always set by us: a container's Env overrides the image's ENV
 * of the same name, so a CUDA image's `NVIDIA_VISIBLE_DEVICES=all` cannot expose every GPU
 * where the NVIDIA runtime is Docker's default. `void`: no NVIDIA GPU at all.
 */
export function gpuEnv(nvidia: readonly { uuid: string }[]): string[] {
  if (!nvidia.length) return ['NVIDIA_VISIBLE_DEVICES=void', 'NVIDIA_DRIVER_CAPABILITIES=compute,utility'];
  return [
    `NVIDIA_VISIBLE_DEVICES=${nvidia.map((g) => g.uuid).join(',')}`,
    'NVIDIA_DRIVER_CAPABILITIES=compute,utility',
    `CUDA_VISIBLE_DEVICES=${nvidia.map((_, i) => i).join(',')}`,
  ];
}

type NvidiaGpu = Extract<AssignedGpu, { vendor: 'nvidia' }>;
type AmdGpu = Extract<AssignedGpu, { vendor: 'amd' }>;
type Egress = NonNullable<SandboxPolicy['egress']>;

export function buildContainerSpec(job: JobSpec, gpus: readonly AssignedGpu[], policy: SandboxPolicy): Docker.ContainerCreateOptions {
  if (policy.uid === 0) throw new Error('policy.uid must not be 0: jobs never run as root');
  const egress = job.network === 'none' ? null : (policy.egress ?? null);
  if (job.network !== 'none' && !egress) throw new Error('an allow-list job needs an egress lease (network, address, proxy); refused earlier when there is none');
  const nvidia = gpus.filter((g): g is NvidiaGpu => g.vendor === 'nvidia');
  const amd = gpus.filter((g): g is AmdGpu => g.vendor === 'amd');
  const hostConfig = buildHostConfig(job, policy, egress, nvidia, amd);
  const proxyEnv = egress
    ? ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].map((k) => `${k}=${egress.proxyUrl}`).concat(['NO_PROXY=', 'no_proxy='])
    : [];

  return {
    name: containerName(job.id),
    Image: job.image,
    Cmd: [...job.command],
    Env: [...Object.entries(job.env).filter(([k]) => !RESERVED_ENV.test(k)).map(([k, v]) => `${k}=${v}`), ...proxyEnv, ...gpuEnv(nvidia)],
    User: `${policy.uid}:${policy.gid}`,
    WorkingDir: SCRATCH_DIR,
    Hostname: 'job',
    NetworkDisabled: !egress,
    AttachStdin: false,
    OpenStdin: false,
    Tty: false,
    Labels: {
      [LABEL_MANAGED]: 'true',
      [LABEL_JOB]: job.id,
      [LABEL_AGENT]: policy.agentInstance,
    },
    HostConfig: hostConfig,
    ...(egress ? { NetworkingConfig: { EndpointsConfig: { [egress.network]: { IPAMConfig: { IPv4Address: egress.ip } } } } } : {}),
  };
}

/** The container's HostConfig: isolation, privilege, filesystem, resources and devices. */
function buildHostConfig(
  job: JobSpec,
  policy: SandboxPolicy,
  egress: Egress | null,
  nvidia: readonly NvidiaGpu[],
  amd: readonly AmdGpu[],
): Docker.HostConfig {
  const memoryBytes = job.memoryMiB * MiB;

  const binds: string[] = [];
  // Staged inputs: the only host folder a job sees, and read-only.
  if (policy.inputDir) binds.push(`${policy.inputDir}:${INPUT_DIR}:ro`);
  // Outputs: the job's own size-capped folder, collected by the agent when the job ends.
  if (policy.outputDir) binds.push(`${policy.outputDir}:${OUTPUT_DIR}:rw`);

  const hostConfig: Docker.HostConfig = {
    // Isolation: no network (or only the internal egress network, whose one reachable address is
    // the agent's proxy); own PID/IPC/UTS namespaces (Docker's defaults, stated explicitly).
    NetworkMode: egress ? egress.network : 'none',
    IpcMode: 'private',
    Privileged: false,
    // Privilege: no capabilities at all, no gaining any through setuid/file caps.
    CapDrop: ['ALL'],
    CapAdd: [],
    SecurityOpt: ['no-new-privileges:true'],
    // Filesystem: the image is read-only; /tmp and the scratch folder are size-capped tmpfs.
    ReadonlyRootfs: true,
    Tmpfs: {
      '/tmp': `rw,nosuid,nodev,noexec,size=${policy.tmpMiB}m,mode=1777`,
      [SCRATCH_DIR]: `rw,nosuid,nodev,size=${job.diskMiB}m,uid=${policy.uid},gid=${policy.gid},mode=0700`,
    },
    Binds: binds,
    ShmSize: job.shmMiB * MiB,
    // Resources: memory with swap equal to memory (no swap), CPU quota, process count.
    Memory: memoryBytes,
    MemorySwap: memoryBytes,
    MemorySwappiness: 0,
    NanoCpus: Math.round(job.cpus * 1e9),
    PidsLimit: policy.pidsLimit,
    OomKillDisable: false,
    Ulimits: [
      { Name: 'core', Soft: 0, Hard: 0 },
      { Name: 'nofile', Soft: 4096, Hard: 4096 },
    ],
    // An init reaps zombies and forwards SIGTERM to the job's process.
    Init: true,
    LogConfig: { Type: 'json-file', Config: { 'max-size': String(policy.logMaxBytes), 'max-file': '1' } },
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    Devices: amd.length
      ? [
          { PathOnHost: '/dev/kfd', PathInContainer: '/dev/kfd', CgroupPermissions: 'rw' },
          ...amd.map((g) => ({ PathOnHost: g.renderNode, PathInContainer: g.renderNode, CgroupPermissions: 'rw' })),
        ]
      : [],
    // NVIDIA: the assigned UUIDs by name, never Count -1 ("every GPU").
    DeviceRequests: nvidia.length
      ? [{ Driver: 'nvidia', Count: 0, DeviceIDs: nvidia.map((g) => g.uuid), Capabilities: [['gpu', 'compute', 'utility']] }]
      : [],
  };
  if (policy.useRunsc) hostConfig.Runtime = 'runsc';
  // No IPv6 inside a networked job: the proxy and the firewall rule speak IPv4.
  if (egress) hostConfig.Sysctls = { 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1' };
  return hostConfig;
}
