/** An identity per machine: the pure comparison of the key's record with this machine, the machine id reader's test file, and the start's check on a data folder. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../runtime/log.js';
import { checkMachineIdentity } from '../../../runtime/wallet/identity-check.js';
import { compareIdentity, copiedSentence, identityPath, readCopiedReport, readIdentityRecord, writeIdentityRecord } from '../../../runtime/wallet/identity-record.js';
import type { IdentityRecord } from '../../../runtime/wallet/identity-schema.js';
import { createKeystore, keystorePath, readKeystore } from '../../../runtime/wallet/keystore.js';
import { appSpecificId, readMachineFacts, type MachineFacts } from '../../../runtime/wallet/machine-id.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const X: MachineFacts = { machineId: appSpecificId('aaaa1111'), hostname: 'rig-a', source: 'test' };
const Y: MachineFacts = { machineId: appSpecificId('bbbb2222'), hostname: 'rig-b', source: 'test' };
const record = (facts: MachineFacts, address = ADDRESS): IdentityRecord => ({ version: 1, address, machineId: facts.machineId, hostname: facts.hostname, recordedAt: '2026-11-01T10:00:00.000Z', how: 'created' });

describe('comparing the key’s record with this machine', () => {
  it('same machine id and host: the same machine', () => {
    expect(compareIdentity(record(X), ADDRESS, X).kind).toBe('same');
  });

  it('same machine id, another host name: a rename, not a copy', () => {
    const v = compareIdentity(record(X), ADDRESS, { ...X, hostname: 'rig-a-renamed' });
    expect(v).toMatchObject({ kind: 'renamed', from: 'rig-a', to: 'rig-a-renamed' });
  });

  it('another machine id: a copied data folder, saying from which machine and host', () => {
    const v = compareIdentity(record(X), ADDRESS, Y);
    expect(v.kind).toBe('copied');
    expect(v.reason).toContain(X.machineId!.slice(0, 8));
    expect(v.reason).toContain('host rig-a');
  });

  it('no record, or one for another key: unrecorded (recorded as this machine’s)', () => {
    expect(compareIdentity(null, ADDRESS, X).kind).toBe('unrecorded');
    expect(compareIdentity(record(X, '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'), ADDRESS, Y).kind).toBe('unrecorded');
  });

  it('a machine without a machine id cannot tell, and says so', () => {
    const v = compareIdentity(record(X), ADDRESS, { machineId: null, hostname: 'rig-a', source: 'none (no /etc/machine-id)' });
    expect(v).toMatchObject({ kind: 'unknown' });
    expect(v.reason).toMatch(/no machine id/);
  });

  it('the id kept is an HMAC of the machine id, never the id itself', () => {
    expect(X.machineId).toMatch(/^[0-9a-f]{32}$/);
    expect(X.machineId).not.toContain('aaaa1111');
    expect(appSpecificId('AAAA1111\n')).toBe(X.machineId);
  });
});

describe('the machine id', () => {
  let temp: ReturnType<typeof makeTempHome>;
  beforeEach(() => (temp = makeTempHome()));
  afterEach(() => temp.cleanup());

  it('comes from OFFSHIFT_MACHINE_ID_FILE in a source checkout (tests), else from the OS', async () => {
    const file = path.join(temp.home, 'machine-id');
    fs.writeFileSync(file, 'bbbb2222\n');
    const facts = await readMachineFacts({ ...process.env, OFFSHIFT_MACHINE_ID_FILE: file, NODE_ENV: 'test' });
    expect(facts.machineId).toBe(Y.machineId);
    const os = await readMachineFacts({ ...process.env, OFFSHIFT_MACHINE_ID_FILE: '', NODE_ENV: 'test' });
    if (fs.existsSync('/etc/machine-id') && fs.readFileSync('/etc/machine-id', 'utf8').trim()) expect(os.machineId).toBe(appSpecificId(fs.readFileSync('/etc/machine-id', 'utf8')));
  });

  // The macOS and Windows readers, through the OS tools they run, faked at the outermost edge: an
  // `ioreg` and a `reg` on PATH printing what those tools print (the formats of `ioreg -rd1 -c
  // IOPlatformExpertDevice` and `reg query … /v MachineGuid`).
  const IOREG = [
    '+-o MacBookPro18,3  <class IOPlatformExpertDevice, id 0x100000202, registered, matched, active, busy 0 (138 ms), retain 37>',
    '    {',
    '      "IOPolledInterface" = "AppleARMWatchdogTimerHibernateHandler is not serializable"',
    '      "model" = <"MacBookPro18,3">',
    '      "IOPlatformUUID" = "3A6E1C2B-5F4D-5E8A-9B7C-0D1E2F3A4B5C"',
    '      "IOPlatformSerialNumber" = "C02XXXXXXXXX"',
    '      "IOBusyInterest" = "IOCommand is not serializable"',
    '    }',
    '',
  ].join('\n');
  const REG = ['', 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography', '    MachineGuid    REG_SZ    6f1e5c2a-8d3b-4e7f-9a0c-1b2d3e4f5a6b', '', ''].join('\r\n');
  function fakeTool(name: string, output: string, code = 0): NodeJS.ProcessEnv {
    const bin = path.join(temp.home, `bin-${name}-${code}`);
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, `${name}.out`), output);
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "$@" > "${bin}/${name}.args"\ncat "${bin}/${name}.out"\nexit ${code}\n`, { mode: 0o755 });
    return { PATH: `${bin}:/usr/bin:/bin`, OFFSHIFT_MACHINE_ID_FILE: '' };
  }

  it('on macOS is the IOPlatformUUID that ioreg prints, on Windows the MachineGuid that reg prints', async () => {
    const mac = await readMachineFacts(fakeTool('ioreg', IOREG), 'darwin');
    expect(mac).toMatchObject({ machineId: appSpecificId('3A6E1C2B-5F4D-5E8A-9B7C-0D1E2F3A4B5C'), source: 'IOPlatformUUID' });
    expect(fs.readFileSync(path.join(temp.home, 'bin-ioreg-0', 'ioreg.args'), 'utf8').trim()).toBe('-rd1 -c IOPlatformExpertDevice');
    const win = await readMachineFacts(fakeTool('reg', REG), 'win32');
    expect(win).toMatchObject({ machineId: appSpecificId('6f1e5c2a-8d3b-4e7f-9a0c-1b2d3e4f5a6b'), source: 'MachineGuid' });
    expect(fs.readFileSync(path.join(temp.home, 'bin-reg-0', 'reg.args'), 'utf8').trim()).toBe('query HKLM\\SOFTWARE\\Microsoft\\Cryptography /v MachineGuid');
    // The id is case-blind: the same machine read as upper or lower case is one machine.
    expect(appSpecificId('6F1E5C2A-8D3B-4E7F-9A0C-1B2D3E4F5A6B')).toBe(win.machineId);
  });

  it('a tool that fails, or prints no id, gives no machine id (the copy check is then skipped, and said)', async () => {
    expect((await readMachineFacts(fakeTool('ioreg', IOREG, 1), 'darwin')).machineId).toBeNull();
    expect((await readMachineFacts(fakeTool('ioreg', '+-o Root  <class IORegistryEntry>\n'), 'darwin')).machineId).toBeNull();
    expect((await readMachineFacts(fakeTool('reg', 'ERROR: The system was unable to find the specified registry key or value.\r\n', 1), 'win32')).machineId).toBeNull();
    expect((await readMachineFacts({ PATH: path.join(temp.home, 'empty'), OFFSHIFT_MACHINE_ID_FILE: '' }, 'win32')).machineId).toBeNull();
  });
});

describe('the start’s check of a data folder', () => {
  let temp: ReturnType<typeof makeTempHome>;
  beforeEach(() => (temp = makeTempHome()));
  afterEach(() => temp.cleanup());
  const check = (facts: MachineFacts, passwordFile?: string) => checkMachineIdentity({ home: temp.home, log: silentLogger, facts, passwordFile, scryptN: 1024, now: () => new Date('2026-11-23T10:20:30.000Z') });

  it('records an older install’s key as this machine’s, and then finds it the same', async () => {
    const { wallet } = await createKeystore(temp.home, 'password1', { scryptN: 1024 });
    expect(await check(X)).toMatchObject({ kind: 'checked', verdict: { kind: 'unrecorded' } });
    expect(readIdentityRecord(temp.home)).toMatchObject({ address: wallet.address, machineId: X.machineId, hostname: 'rig-a', how: 'first-start' });
    expect(await check(X)).toMatchObject({ kind: 'checked', verdict: { kind: 'same' } });
  });

  it('a rename keeps the key and updates the host', async () => {
    const { wallet } = await createKeystore(temp.home, 'password1', { scryptN: 1024 });
    writeIdentityRecord(temp.home, wallet.address, X, 'created');
    expect(await check({ ...X, hostname: 'rig-a2' })).toMatchObject({ kind: 'checked', verdict: { kind: 'renamed' } });
    expect(readIdentityRecord(temp.home)).toMatchObject({ address: wallet.address, hostname: 'rig-a2', how: 'created' });
    expect(readKeystore(temp.home).address).toBe(wallet.address);
  });

  it('a copy with a password file: the copied key kept aside, a new one made with the same password, and why', async () => {
    const { wallet } = await createKeystore(temp.home, 'password1', { scryptN: 1024 });
    writeIdentityRecord(temp.home, wallet.address, X, 'created');
    const copiedBytes = fs.readFileSync(keystorePath(temp.home), 'utf8');
    const passwordFile = path.join(temp.home, '..', `${path.basename(temp.home)}.pw`);
    fs.writeFileSync(passwordFile, 'password1\n');
    try {
      const outcome = await check(Y, passwordFile);
      expect(outcome.kind).toBe('copied');
      const kept = path.join(temp.home, 'wallet-keystore.cloned-2026-11-23T10-20-30Z.json');
      expect(fs.readFileSync(kept, 'utf8')).toBe(copiedBytes);
      expect(fs.existsSync(path.join(temp.home, 'wallet-identity.cloned-2026-11-23T10-20-30Z.json'))).toBe(true);
      const now = readKeystore(temp.home).address;
      expect(now).not.toBe(wallet.address);
      expect(readIdentityRecord(temp.home)).toMatchObject({ address: now, machineId: Y.machineId, hostname: 'rig-b', how: 'created' });
      const report = readCopiedReport(temp.home)!;
      expect(report).toMatchObject({ copiedAddress: wallet.address, newAddress: now, keptAs: path.basename(kept), from: { hostname: 'rig-a' } });
      const message = copiedSentence(report, now);
      expect(message).toContain(`copied from machine ${X.machineId!.slice(0, 8)} (host rig-a)`);
      expect(message).toContain(`made its own identity ${now} and never signs in with the copied key`);
      // Started again on this machine: the new key is its own.
      expect(await check(Y, passwordFile)).toMatchObject({ kind: 'checked', verdict: { kind: 'same' } });
    } finally {
      fs.rmSync(passwordFile, { force: true });
    }
  });

  it('a copy without a password file: the copied key kept aside, no wallet until the owner makes one', async () => {
    const { wallet } = await createKeystore(temp.home, 'password1', { scryptN: 1024 });
    writeIdentityRecord(temp.home, wallet.address, X, 'created');
    const outcome = await check(Y);
    expect(outcome.kind).toBe('copied');
    expect(fs.existsSync(keystorePath(temp.home))).toBe(false);
    expect(fs.existsSync(identityPath(temp.home))).toBe(false);
    expect(fs.readdirSync(temp.home).filter((f) => f.startsWith('wallet-keystore.cloned-'))).toHaveLength(1);
    expect(outcome.kind === 'copied' && outcome.message).toMatch(/needs its own identity: create or import a wallet.*market stays off/);
  });
});
