/**
 * GPU signals through the real agent and the real GPU service, with a fake nvidia-smi serving
 * real captures: another program holding GPU memory pauses work and is named; desktop
 * compositors do not count; a hot GPU pauses work.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent, type Agent } from '../../../runtime/agent/agent.js';
import { silentLogger } from '../../../runtime/log.js';
import { ManualIdleSource } from '../../../runtime/schedule/sources/idle.js';
import { makeFakeGpuTools, type FakeGpuTools } from '../../helpers/fake-gpu-tools.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { until } from '../../helpers/until.js';

let agent: Agent | null = null;
let fake: FakeGpuTools | null = null;
let temp: ReturnType<typeof makeTempHome> | null = null;

afterEach(async () => {
  await agent?.stop();
  fake?.cleanup();
  temp?.cleanup();
  agent = fake = temp = null;
});

async function start(capture: string): Promise<Agent> {
  temp = makeTempHome('offshift-gpu-signals-');
  fake = makeFakeGpuTools({ nvidiaXml: capture });
  agent = createAgent({
    home: temp.home,
    env: fake.env({ ...process.env }),
    log: silentLogger,
    idleSource: new ManualIdleSource(3600),
    policyFile: path.join(temp.home, 'no-policy.json'),
  });
  await agent.start();
  return agent;
}

async function waitForReason(a: Agent, reason: string, timeoutMs = 15_000): Promise<void> {
  await until(`reason ${reason}`, () => a.state.value.reason === reason, timeoutMs, {
    detail: () => `state is ${a.state.value.state}/${a.state.value.reason} (${a.state.value.detail})`,
  });
}

describe('GPU signals through the agent (fake nvidia-smi, real captures)', () => {
  it('a miner holding 2283 MiB pauses work and is named', async () => {
    const a = await start('nvidia-smi-q-x_6x-gtx1070_driver384.66_processes.xml');
    await waitForReason(a, 'foreign-gpu-use');
    expect(a.state.value).toMatchObject({ state: 'paused', detail: 'Paused: ethminer is using the GPU (2283 MiB).' });
    // The owner does not mind it: work may run.
    await a.client().call('schedule.set', { pauseOnForeignGpuUse: false });
    await waitForReason(a, 'ok');
  });

  it('compositors and small users do not count (Xorg 547 MiB, kwin_x11, plasmashell)', async () => {
    const a = await start('nvidia-smi-q-x_gt1030_driver470.74_processes.xml');
    await waitForReason(a, 'ok');
    expect(a.state.value.state).toBe('available');
  });

  it('a python process just under the threshold does not count; lower the threshold and it does', async () => {
    const a = await start('nvidia-smi-q-x_tesla-t4_driver515.105.01_processes.xml');
    await waitForReason(a, 'ok');
    await a.client().call('schedule.set', { foreignGpuMinMiB: 1000 });
    await waitForReason(a, 'foreign-gpu-use');
    expect(a.state.value.detail).toBe('Paused: python is using the GPU (1005 MiB).');
  });

  it('a GPU hotter than pauseAtC pauses work (temperature from the real GPU service)', async () => {
    const a = await start('nvidia-smi-q-x_6x-gtx1070_driver384.66_processes.xml');
    await a.client().call('schedule.set', { pauseOnForeignGpuUse: false, thermal: { pauseAtC: 50, resumeBelowC: 45 } });
    await waitForReason(a, 'too-hot');
    expect(a.state.value.detail).toBe('Paused: the GPU is too hot (pauses at 50 °C, resumes below 45 °C).');
  });
});
