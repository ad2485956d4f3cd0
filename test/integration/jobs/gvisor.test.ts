import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../../runtime/policy/load.js';
import { connectDocker, engineFeatures } from '../../../runtime/engine/index.js';
import { effectiveSandboxSettings } from '../../../runtime/sandbox/effective-settings.js';
import { openSettingsStore } from '../../../runtime/settings/store.js';
import { sandboxTestImage } from '../../helpers/test-images.js';
import { makeTempHome } from '../../helpers/temp-home.js';
import { makeHarness, skipReason, type Harness } from './harness.js';

let image: string;
let hasRunsc = false;
const harnesses: Harness[] = [];
const temp = makeTempHome();

describe.skipIf(skipReason !== null)('the gVisor setting (sandbox.runtime)', () => {
  beforeAll(async () => {
    image = sandboxTestImage();
    hasRunsc = (await engineFeatures(connectDocker())).runsc;
    if (hasRunsc) console.warn('[gvisor.test] this engine HAS runsc: the refusal test is skipped');
  });
  afterAll(async () => {
    for (const h of harnesses) await h.cleanup();
    temp.cleanup();
  });

  it('follows the user settings file, under the admin policy that can make gVisor mandatory', () => {
    const settings = openSettingsStore(temp.home);
    const noPolicy = loadPolicy(path.join(temp.home, 'missing-policy.json'));
    expect(effectiveSandboxSettings(settings, noPolicy)).toEqual({ runtime: 'default' });
    settings.update('sandbox', { runtime: 'gvisor' });
    expect(effectiveSandboxSettings(openSettingsStore(temp.home), noPolicy)).toEqual({ runtime: 'gvisor' });

    settings.update('sandbox', { runtime: 'default' });
    const policyFile = path.join(temp.home, 'policy.json');
    fs.writeFileSync(policyFile, JSON.stringify({ mandatory: { sandbox: { runtime: 'gvisor' } } }));
    expect(effectiveSandboxSettings(settings, loadPolicy(policyFile))).toEqual({ runtime: 'gvisor' });
  });

  it('refuses a job up front when gVisor is asked for but the engine has no runsc, leaving nothing behind; the default runs', async (ctx) => {
    if (hasRunsc) ctx.skip();
    let runtime: 'default' | 'gvisor' = 'gvisor';
    const h = makeHarness({ sandboxSettings: () => ({ runtime }) });
    harnesses.push(h);
    const error = await h.runner.submit({ image, command: ['true'] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'gvisor-missing' });
    expect((error as Error).message).toMatch(/runsc.*sandbox\.runtime/s);
    expect(h.runner.list()).toEqual([]);
    expect(await h.docker.listContainers({ all: true, filters: { label: [`io.offshift.agent=${h.runner.agentInstance}`] } })).toEqual([]);

    runtime = 'default';
    const job = await h.runner.submit({ image, command: ['true'] });
    expect((await h.runner.wait(job.id)).state).toBe('succeeded');
  });
});
