/**
 * `offshift service install --config FILE` from the command line (the CLI run from source with
 * tsx, so no build is needed; only --dry-run: nothing is installed on this machine). A bad file
 * exits non-zero naming the field and writes nothing; a good one prints the policy and payout
 * files before the service's own steps, and still writes nothing.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../helpers/temp-home.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const temp = makeTempDir('offshift-service-config-');
const policyFile = path.join(temp, 'etc', 'offshift', 'policy.json');
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'runtime', 'cli.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, OFFSHIFT_POLICY_FILE: policyFile, SUDO_USER: undefined },
    timeout: 60_000,
  });
}

function write(name: string, value: unknown): string {
  const file = path.join(temp, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

const good = {
  mandatory: { market: { url: 'wss://market.example.com/ws', demo: false }, images: { budgetGiB: 300, minFreeGiB: 40 } },
  recommended: { market: { minPricePerGpuHour: '500000000000000000' } },
  source: { url: 'https://it.example.com/offshift/policy.json', signer: '0x' + 'cd'.repeat(20) },
  wallet: { payoutAddress: '0x' + '34'.repeat(20) },
};

describe('offshift service install --config', () => {
  it('a bad file: exit code non-zero, the file and the field named, nothing written', () => {
    const cases: [unknown, RegExp][] = [
      [{ ...good, mandatory: { images: { budgetGiB: 0 } } }, /mandatory\.images\.budgetGiB: /],
      [{ ...good, source: { url: 'https://it.example.com/p.json' } }, /source\.signer: /],
      [{ ...good, wallet: { payoutAddress: '0xnope' } }, /wallet\.payoutAddress: /],
      ['{ not json', /not valid JSON/],
    ];
    for (const [i, [value, field]] of cases.entries()) {
      const file = write(`bad-${i}.json`, value);
      const r = cli(['service', 'install', '--config', file, '--dry-run']);
      expect(r.status, r.stderr).not.toBe(0);
      expect(r.stderr).toContain(`--config ${file} is invalid`);
      expect(r.stderr).toMatch(field);
      expect(r.stderr).toContain('Nothing was installed.');
      expect(r.stdout).not.toContain('Would install');
    }
    expect(fs.existsSync(path.join(temp, 'etc'))).toBe(false);
  });

  it('a good file: the plan writes the policy (the payout address in it) first, then installs the service; --dry-run writes nothing', () => {
    const r = cli(['service', 'install', '--config', write('studio.json', good), '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const at = (s: string) => lines.findIndex((l) => l.includes(s));
    expect(at(`${path.dirname(policyFile)} owned by root:root, mode 755`)).toBe(1);
    expect(at(`write ${policyFile} (mode 644)`)).toBe(2);
    expect(at(path.join(path.dirname(policyFile), 'payout.json'))).toBe(3);
    expect(at('systemctl enable --now offshift.service')).toBeGreaterThan(3);
    expect(fs.existsSync(path.join(temp, 'etc'))).toBe(false);
  });

  it('`service check-config FILE`: 0 and where the parts go for a good file, non-zero naming the field for a bad one', () => {
    const ok = cli(['service', 'check-config', write('check.json', good)]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`is valid. Install it as ${policyFile}`);
    const bad = cli(['service', 'check-config', write('check-bad.json', { mandatory: { images: { minFreeGiB: 'x' } } })]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/check-bad\.json is invalid: mandatory\.images\.minFreeGiB: /);
    expect(fs.existsSync(path.join(temp, 'etc'))).toBe(false);
  });
});
