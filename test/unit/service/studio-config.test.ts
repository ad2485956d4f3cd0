import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../helpers/temp-home.js';
import { parseArgs, argSpecFromUsage } from '../../../runtime/cli/args.js';
import { serviceApplyConfigCommand, serviceCheckConfigCommand, serviceInstallCommand } from '../../../runtime/cli/commands/service.js';
import { loadPolicy } from '../../../runtime/policy/load.js';
import { parseStudioConfig, policyFileText } from '../../../runtime/policy/studio-config.js';
import { effectiveSection } from '../../../runtime/settings/effective.js';
import { OLD_PAYOUT_FILE, studioConfigSteps } from '../../../runtime/service/config-plan.js';
import { describeStep } from '../../../runtime/service/plan.js';
import { runPlan } from '../../../runtime/service/run-plan.js';

const SIGNER = '0x' + 'ab'.repeat(20);
const PAYOUT = '0x' + '12'.repeat(20);
const studio = {
  description: 'Render farm, floor 3',
  version: 4,
  mandatory: {
    market: { url: 'wss://market.example.com/ws', demo: false, minPricePerGpuHour: '400000000000000000' },
    images: { budgetGiB: 200, minFreeGiB: 50 },
  },
  recommended: { market: { minPricePerJobHour: '150000000000000000' } },
  source: { url: 'https://it.example.com/offshift/policy.json', signer: SIGNER, everySeconds: 600 },
  wallet: { payoutAddress: PAYOUT },
};

const temps: string[] = [];
function tempRoot(): string {
  const dir = makeTempDir('offshift-studio-config-');
  temps.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of temps.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function expectInvalid(value: unknown, message: RegExp) {
  const r = parseStudioConfig(typeof value === 'string' ? value : JSON.stringify(value));
  expect(r.ok).toBe(false);
  expect((r as { message: string }).message).toMatch(message);
}

describe('the studio config (pure)', () => {
  it('is the policy file, its wallet.payoutAddress written as the locked mandatory.payout.address; the agent reads it as the admin policy', () => {
    const r = parseStudioConfig(JSON.stringify(studio));
    if (!r.ok) throw new Error(r.message);
    const { wallet: _wallet, ...policy } = studio;
    expect(r.policy).toEqual({ ...policy, mandatory: { ...policy.mandatory, payout: { address: PAYOUT } } });
    expect(r.payoutAddress).toBe(PAYOUT);
    const dir = tempRoot();
    fs.writeFileSync(path.join(dir, 'policy.json'), policyFileText(r.policy));
    const loaded = loadPolicy(path.join(dir, 'policy.json'));
    expect(loaded).toMatchObject({ state: 'ok', version: 4, source: studio.source });
    const market = effectiveSection('market', { url: 'wss://elsewhere.example/ws', minPricePerJobHour: '1' }, loaded);
    expect(market).toMatchObject({ ok: true, value: { url: 'wss://market.example.com/ws', demo: false, minPricePerGpuHour: '400000000000000000', minPricePerJobHour: '1' } });
    expect((market as { locked: string[] }).locked).toEqual(expect.arrayContaining(['market.url', 'market.minPricePerGpuHour']));
    expect(effectiveSection('images', { budgetGiB: 10 }, loaded)).toMatchObject({ ok: true, value: { budgetGiB: 200, minFreeGiB: 50 }, locked: ['images.budgetGiB', 'images.minFreeGiB'] });
    // The owner's own payout address gives way to the room's, which is locked.
    expect(effectiveSection('payout', { address: '0x' + '77'.repeat(20) }, loaded)).toMatchObject({ ok: true, value: { address: PAYOUT }, locked: ['payout.address'] });
    // Without a payout address (or anything else) it is just a policy file.
    expect(parseStudioConfig('{}')).toEqual({ ok: true, policy: {}, payoutAddress: null, shorthand: false });
    // Written directly in the policy, it is the same; named twice, differently, it is refused.
    expect(parseStudioConfig(JSON.stringify({ mandatory: { payout: { address: PAYOUT } } }))).toMatchObject({ ok: true, payoutAddress: PAYOUT, shorthand: false });
  });

  it('a bad file gets an error naming the field', () => {
    expectInvalid('{ "mandatory": ', /^not valid JSON/);
    expectInvalid({ ...studio, mandatory: { images: { budgetGiB: 'lots' } } }, /mandatory\.images\.budgetGiB: /);
    expectInvalid({ ...studio, mandatory: { market: { urll: 'wss://x' } } }, /mandatory\.market: .*urll/);
    expectInvalid({ ...studio, mandatory: { walet: {} } }, /mandatory: .*walet/);
    expectInvalid({ ...studio, source: { url: 'http://it.example.com/p.json', signer: SIGNER } }, /source\.url: must be an https:\/\/ URL/);
    expectInvalid({ ...studio, source: { url: 'https://it.example.com/p.json', signer: '0x12' } }, /source\.signer: must be an Ethereum address/);
    expectInvalid({ ...studio, wallet: { payoutAddress: 'alice' } }, /wallet\.payoutAddress: /);
    expectInvalid({ ...studio, wallet: { payout: PAYOUT } }, /wallet: .*payout/);
    expectInvalid({ ...studio, mandatory: { payout: { address: '0x' + '99'.repeat(20) } } }, /name different payout addresses/);
    expectInvalid([], /\(the whole file\)/);
  });

  it('values that are each valid but do not fit together are refused, naming the section', () => {
    expectInvalid({ mandatory: { schedule: { thermal: { pauseAtC: 70, resumeBelowC: 80 } } } }, /do not fit together: schedule/);
  });
});

describe('installing the studio config (into a temporary root)', () => {
  const chowns: string[] = [];
  const runner = {
    exec: (argv: string[]) => {
      chowns.push(argv.join(' '));
      return { code: 0, output: '' };
    },
    print: () => {},
  };

  it('writes the policy (0644) in a root-owned folder (0755), the payout address in it, and removes the payout file of an earlier version', () => {
    const root = tempRoot();
    const policyFile = path.join(root, 'etc', 'offshift', 'policy.json');
    const r = parseStudioConfig(JSON.stringify(studio));
    if (!r.ok) throw new Error(r.message);
    const steps = studioConfigSteps(r, policyFile);
    expect(steps.map(describeStep)).toEqual([
      expect.stringContaining(`${path.dirname(policyFile)} owned by root:root, mode 755`),
      expect.stringContaining(`write ${policyFile} (mode 644)`),
      expect.stringContaining(path.join(root, 'etc', 'offshift', OLD_PAYOUT_FILE)),
    ]);
    fs.mkdirSync(path.dirname(policyFile), { recursive: true });
    fs.writeFileSync(path.join(path.dirname(policyFile), OLD_PAYOUT_FILE), '{}');
    runPlan(steps, runner);
    expect(chowns).toEqual([`chown root:root ${path.dirname(policyFile)}`]);
    expect(fs.statSync(path.dirname(policyFile)).mode & 0o777).toBe(0o755);
    expect(fs.statSync(policyFile).mode & 0o777).toBe(0o644);
    expect(loadPolicy(policyFile)).toMatchObject({ state: 'ok', mandatory: { ...studio.mandatory, payout: { address: PAYOUT } } });
    expect(fs.existsSync(path.join(path.dirname(policyFile), OLD_PAYOUT_FILE))).toBe(false);

    const again = parseStudioConfig(JSON.stringify({ mandatory: { images: { budgetGiB: 100 } } }));
    if (!again.ok) throw new Error(again.message);
    runPlan(studioConfigSteps(again, policyFile), runner);
    expect(fs.existsSync(path.join(path.dirname(policyFile), OLD_PAYOUT_FILE))).toBe(false);
    expect(loadPolicy(policyFile)).toMatchObject({ state: 'ok', mandatory: { images: { budgetGiB: 100 } } });
  });
});

describe('`offshift service install --config` (in process)', () => {
  function run(argv: string[], env: NodeJS.ProcessEnv) {
    let stdout = '';
    const args = parseArgs(argv, argSpecFromUsage(serviceInstallCommand.usage, [...(serviceInstallCommand.booleanFlags ?? []), 'json']));
    return serviceInstallCommand.run(args, { env, stdout: (t) => (stdout += t), stderr: () => {} }).then((code) => ({ code, stdout }));
  }

  it('--dry-run puts the policy first in the plan, before the service starts; nothing is written', async () => {
    const root = tempRoot();
    const file = path.join(root, 'studio.json');
    fs.writeFileSync(file, JSON.stringify(studio));
    const policyFile = path.join(root, 'etc', 'policy.json');
    const { code, stdout } = await run(['--config', file, '--dry-run'], { OFFSHIFT_POLICY_FILE: policyFile });
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    const policyLine = lines.findIndex((l) => l.includes(`write ${policyFile}`));
    expect(policyLine).toBeGreaterThan(0);
    expect(policyLine).toBeLessThan(lines.findIndex((l) => l.includes('systemctl enable --now')));
    expect(stdout).toContain(OLD_PAYOUT_FILE);
    expect(fs.existsSync(path.join(root, 'etc'))).toBe(false);
  });

  it('a bad or missing file is refused before anything is installed, naming the field', async () => {
    const root = tempRoot();
    const file = path.join(root, 'studio.json');
    fs.writeFileSync(file, JSON.stringify({ ...studio, mandatory: { images: { minFreeGiB: -1 } } }));
    const env = { OFFSHIFT_POLICY_FILE: path.join(root, 'etc', 'policy.json') };
    // Only --dry-run here: this test may run as root, and a real install must never start from a test.
    await expect(run(['--config', file, '--dry-run'], env)).rejects.toMatchObject({ code: 'usage', message: expect.stringMatching(/studio\.json is invalid: mandatory\.images\.minFreeGiB: .*Nothing was installed\./) });
    await expect(run(['--config', path.join(root, 'absent.json'), '--dry-run'], env)).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('cannot be read (ENOENT)') });
    expect(fs.readdirSync(root)).toEqual(['studio.json']);
  });

  it('`service check-config FILE` checks on any platform and says where the parts go, installing nothing', async () => {
    const root = tempRoot();
    const policyFile = path.join(root, 'etc', 'policy.json');
    const env = { OFFSHIFT_POLICY_FILE: policyFile };
    const check = async (file: string, ...more: string[]) => {
      let stdout = '';
      const args = parseArgs([file, ...more], argSpecFromUsage(serviceCheckConfigCommand.usage, [...(serviceCheckConfigCommand.booleanFlags ?? []), 'json']));
      const code = await serviceCheckConfigCommand.run(args, { env, stdout: (t) => (stdout += t), stderr: () => {} });
      return { code, stdout };
    };
    const good = path.join(root, 'good.json');
    fs.writeFileSync(good, JSON.stringify(studio));
    const ok = await check(good);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${good} is valid. Install it as ${policyFile}`);
    expect(ok.stdout).toContain(`Every machine pays its earnings to ${PAYOUT} (mandatory.payout.address)`);
    // --as-policy (the file is to be the policy file itself): a `wallet` key would make the agent refuse it.
    await expect(check(good, '--as-policy')).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('is invalid as the policy file: wallet: ') });
    const { wallet: _w, ...policyOnly } = studio;
    fs.writeFileSync(good, JSON.stringify(policyOnly));
    expect((await check(good, '--as-policy')).code).toBe(0);
    expect(loadPolicy(good)).toMatchObject({ state: 'ok' });
    const bad = path.join(root, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ recommended: { market: { minPricePerGpuHour: 0.4 } } }));
    await expect(check(bad)).rejects.toMatchObject({ code: 'usage', message: expect.stringMatching(/^\S+bad\.json is invalid: recommended\.market\.minPricePerGpuHour: .*\.$/) });
    expect(fs.existsSync(path.join(root, 'etc'))).toBe(false);
  });

  it('`service apply-config FILE` writes the policy, payout address included, on any platform (no chown), and nothing for a bad file', async () => {
    const root = tempRoot();
    const policyFile = path.join(root, 'ProgramData', 'Offshift', 'policy.json');
    const apply = async (file: string) => {
      let stdout = '';
      const args = parseArgs([file], argSpecFromUsage(serviceApplyConfigCommand.usage, ['json']));
      const code = await serviceApplyConfigCommand.run(args, { env: { OFFSHIFT_POLICY_FILE: policyFile }, stdout: (t) => (stdout += t), stderr: () => {} });
      return { code, stdout };
    };
    const bad = path.join(root, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ ...studio, source: { url: 'https://x.example/p.json', signer: 'me' } }));
    await expect(apply(bad)).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('source.signer: ') });
    expect(fs.existsSync(path.join(root, 'ProgramData'))).toBe(false);
    const good = path.join(root, 'studio.json');
    fs.writeFileSync(good, JSON.stringify(studio));
    const r = await apply(good);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`administrator's policy in ${policyFile}`);
    expect(fs.statSync(policyFile).mode & 0o777).toBe(0o644);
    expect(loadPolicy(policyFile)).toMatchObject({ state: 'ok', mandatory: { ...studio.mandatory, payout: { address: PAYOUT } }, source: studio.source });
  });
});
