import { describe, expect, it } from 'vitest';
import type { Gpu } from '../../../runtime/gpu/schema.js';
import { containerGpuItem, decodeWslOutput, diskItemFromFree, dockerItem, gpuDriverItem, wslItemFromStatus } from '../../../runtime/system/check.js';
import type { DockerProbe } from '../../../runtime/engine/index.js';
import { dockerOptionsFromEnv } from '../../../runtime/engine/index.js';

const gpu = (vendor: Gpu['vendor'], name: string): Gpu => ({
  index: 0, uuid: null, vendor, name, memoryTotalMiB: null, driverVersion: '550.54.14', cudaVersion: '12.4', pciBusId: null,
  migMode: null, migDevices: [], processes: [], temperatureC: null, utilizationPct: null, memoryUsedMiB: null, powerDrawW: null, powerLimitW: null,
});
const probe = (over: Partial<DockerProbe> = {}): DockerProbe => ({
  reachable: true, endpoint: 'unix:///var/run/docker.sock', version: '27.3.1', apiVersion: '1.47', operatingSystem: 'Ubuntu 24.04',
  runtimes: ['runc'], defaultRuntime: 'runc', cdiSpecDirs: [], error: null, elapsedMs: 5, ...over,
});

describe('system check items', () => {
  it('GPU driver: pass with driver and CUDA, fail with the reason when the tool fails, warn for GPUs without a vendor tool', () => {
    const ok = gpuDriverItem([gpu('nvidia', 'RTX 4090')], [{ tool: 'nvidia-smi', path: '/usr/bin/nvidia-smi', ok: true, gpuCount: 1, error: null }, { tool: 'rocm-smi', path: null, ok: false, gpuCount: 0, error: null }]);
    expect(ok).toMatchObject({ status: 'pass', message: 'nvidia-smi (driver 550.54.14, CUDA 12.4) sees 1 NVIDIA GPU.' });
    const broken = gpuDriverItem([], [{ tool: 'nvidia-smi', path: '/usr/bin/nvidia-smi', ok: false, gpuCount: 0, error: 'nvidia-smi is installed but failed: X.' }]);
    expect(broken).toMatchObject({ status: 'fail', message: 'nvidia-smi is installed but failed: X.' });
    expect(gpuDriverItem([gpu('intel', 'UHD 770')], [{ tool: 'nvidia-smi', path: null, ok: false, gpuCount: 0, error: null }]).status).toBe('warn');
    const none = gpuDriverItem([], [{ tool: 'nvidia-smi', path: null, ok: false, gpuCount: 0, error: null }]);
    expect(none.status).toBe('fail');
    expect(none.message).toMatch(/Install your GPU driver/);
  });

  it('Docker: version when reachable, the reason when not, a warning for engines too old for GPUs', () => {
    expect(dockerItem(probe())).toMatchObject({ status: 'pass', message: 'Docker 27.3.1 is reachable at unix:///var/run/docker.sock (API 1.47).' });
    expect(dockerItem(probe({ reachable: false, error: 'Nothing answers.' }))).toMatchObject({ status: 'fail', message: 'Nothing answers.' });
    expect(dockerItem(probe({ version: '18.09.1' })).status).toBe('warn');
  });

  it('GPU access for containers: nvidia runtime, else CDI, else the toolkit install steps', () => {
    const nvidia = [gpu('nvidia', 'RTX 4090')];
    expect(containerGpuItem(nvidia, probe({ runtimes: ['runc', 'nvidia'] })).status).toBe('pass');
    const missing = containerGpuItem(nvidia, probe());
    expect(missing.status).toBe('fail');
    expect(missing.message).toMatch(/NVIDIA Container Toolkit.*nvidia-ctk runtime configure --runtime=docker/);
    expect(containerGpuItem(nvidia, probe({ reachable: false })).status).toBe('warn');
    expect(containerGpuItem([], probe()).status).toBe('warn');
    expect(containerGpuItem([gpu('amd', 'MI100')], probe(), () => true).status).toBe('pass');
    expect(containerGpuItem([gpu('amd', 'MI100')], probe(), (p) => p !== '/dev/kfd').message).toMatch(/\/dev\/kfd missing/);
  });

  it('disk: fail under 5 GiB, warn under 20 GiB', () => {
    const GiB = 1024 ** 3;
    expect(diskItemFromFree('/h', 2 * GiB).status).toBe('fail');
    expect(diskItemFromFree('/h', 12 * GiB).status).toBe('warn');
    expect(diskItemFromFree('/h', 300 * GiB)).toMatchObject({ status: 'pass', message: '300 GiB free in /h.' });
  });

  it('WSL 2: reads wsl --status (UTF-16) and says what to run', () => {
    const utf16 = Buffer.from('Default Distribution: Ubuntu\r\nDefault Version: 2\r\n', 'utf16le');
    expect(decodeWslOutput(utf16)).toContain('Default Version: 2');
    expect(wslItemFromStatus(0, 'Default Version: 2').status).toBe('pass');
    expect(wslItemFromStatus(0, 'Default Version: 1').message).toMatch(/wsl --set-default-version 2/);
    expect(wslItemFromStatus(null, '').message).toMatch(/wsl --install/);
  });

  it('DOCKER_HOST: unix, npipe, tcp; ssh refused with a reason', () => {
    expect(dockerOptionsFromEnv({}, 'linux')).toEqual({ options: { socketPath: '/var/run/docker.sock' }, description: 'unix:///var/run/docker.sock' });
    expect(dockerOptionsFromEnv({}, 'win32').options).toEqual({ socketPath: '//./pipe/docker_engine' });
    expect(dockerOptionsFromEnv({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }).options).toEqual({ socketPath: '/run/user/1000/docker.sock' });
    expect(dockerOptionsFromEnv({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toEqual({ options: { host: '10.0.0.5', port: '2375', protocol: 'http' }, description: 'tcp://10.0.0.5:2375' });
    expect(dockerOptionsFromEnv({ DOCKER_HOST: 'tcp://10.0.0.5:2376' }).options.protocol).toBe('https');
    expect(() => dockerOptionsFromEnv({ DOCKER_HOST: 'ssh://me@box' })).toThrow(/does not support/);
  });
});
