import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../runtime/chain/anvil.js';
import { runCli } from '../../../runtime/cli.js';
import { makeTempHome } from '../../helpers/temp-home.js';

/** The money commands end to end: a real detached anvil from `devnet up`, the real database and keystore. */
describe('offshift devnet / wallet / earnings', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let env: NodeJS.ProcessEnv;
  let passwordFile: string;
  let address: string;

  async function cli(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(argv, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    temp = makeTempHome();
    env = { ...process.env, OFFSHIFT_HOME: temp.home, OFFSHIFT_KEYSTORE_SCRYPT_N: '1024' };
    passwordFile = path.join(temp.home, 'password.txt');
    fs.writeFileSync(passwordFile, 'a long enough password\n');
  });
  afterAll(async () => {
    await cli('devnet', 'down');
    temp.cleanup();
  });

  it('devnet up starts the chain, deploys, funds the demo buyer and saves the addresses', async () => {
    const port = await freePort();
    const up = await cli('devnet', 'up', '--port', String(port), '--json');
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const info = JSON.parse(up.stdout);
    expect(info).toMatchObject({ rpcUrl: `http://127.0.0.1:${port}`, chainId: 31337, token: expect.stringMatching(/^0x/), escrow: expect.stringMatching(/^0x/), buyer: { address: expect.stringMatching(/^0x/), privateKey: expect.stringMatching(/^0x/) } });
    const again = JSON.parse((await cli('devnet', 'up', '--json')).stdout);
    expect(again).toEqual(info);
  });

  it('wallet create prints the address and the mnemonic once; the keystore is 0600', async () => {
    const r = await cli('wallet', 'create', '--json', '--password-file', passwordFile);
    expect(r.code).toBe(0);
    const created = JSON.parse(r.stdout);
    expect(created.mnemonic.split(' ')).toHaveLength(12);
    address = created.address;
    expect(fs.statSync(path.join(temp.home, 'wallet-keystore.json')).mode & 0o777).toBe(0o600);
    expect((await cli('wallet', 'create', '--json', '--password-file', passwordFile)).code).toBe(1);
    const fund = await cli('devnet', 'fund', address, '--eth', '1');
    expect(fund.code).toBe(0);
  });

  it('wallet redeem pays a voucher once; the second time exits non-zero saying it was already redeemed', async () => {
    const file = path.join(temp.home, 'voucher.json');
    const v = await cli('devnet', 'voucher', '--provider', address, '--job', 'demo-job-1', '--amount', '12.5', '--out', file);
    expect(v.code).toBe(0);
    const first = await cli('wallet', 'redeem', '--voucher', file, '--json', '--password-file', passwordFile);
    expect(first.stderr).toBe('');
    const paid = JSON.parse(first.stdout);
    expect(paid).toEqual({ txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/), paid: '12500000000000000000' });
    const second = await cli('wallet', 'redeem', '--voucher', file, '--json', '--password-file', passwordFile);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/already redeemed/);

    const status = JSON.parse((await cli('wallet', 'status', '--json')).stdout);
    expect(status).toMatchObject({ address, tokenBalance: '12500000000000000000', redeemed: '12500000000000000000', redeemable: '0' });

    const wrong = path.join(temp.home, 'wrong.txt');
    fs.writeFileSync(wrong, 'not the password\n');
    const v2 = path.join(temp.home, 'voucher2.json');
    await cli('devnet', 'voucher', '--provider', address, '--job', 'demo-job-1', '--amount', '13', '--out', v2);
    const refused = await cli('wallet', 'redeem', '--voucher', v2, '--password-file', wrong);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Wrong wallet password/);
    // The voucher was stored anyway: it shows as redeemable.
    expect(JSON.parse((await cli('wallet', 'status', '--json')).stdout).redeemable).toBe('500000000000000000');
    const all = await cli('wallet', 'redeem', '--all', '--json', '--password-file', passwordFile);
    expect(JSON.parse(all.stdout).results).toMatchObject([{ outcome: 'ok', paid: '500000000000000000' }]);
  });

  it('bad input gets a clear error and exit 2', async () => {
    const bad = path.join(temp.home, 'bad.json');
    fs.writeFileSync(bad, '{"voucher": {}, "signature": "0x12"}');
    const r = await cli('wallet', 'redeem', '--voucher', bad, '--password-file', passwordFile);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a valid voucher/);
    expect((await cli('wallet', 'withdraw', '--to', address)).code).toBe(2);
    expect((await cli('wallet', 'withdraw', '--to', address, '--amount', 'lots')).stderr).toMatch(/amount of tokens/);
  });

  it('earnings shows the redeemed job and exports it as CSV', async () => {
    const summary = JSON.parse((await cli('earnings', '--json', '--tz', 'UTC')).stdout);
    expect(summary).toMatchObject({ today: '13000000000000000000', allTime: '13000000000000000000', totals: { redeemed: '13000000000000000000', jobs: 1 }, tokenSymbol: 'OFT' });
    const out = path.join(temp.home, 'earnings.csv');
    expect((await cli('earnings', 'export', '--out', out)).code).toBe(0);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/,13,OFT,redeemed,0x[0-9a-f]{64},$/);
  });

  it('wallet withdraw shows the fee and needs --yes without a terminal', async () => {
    const to = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
    const unconfirmed = await cli('wallet', 'withdraw', '--to', to, '--amount', '1', '--password-file', passwordFile);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/network fee at most .* --yes/);
    const sent = await cli('wallet', 'withdraw', '--to', to, '--amount', '1', '--yes', '--json', '--password-file', passwordFile);
    expect(sent.stderr).toBe('');
    expect(JSON.parse(sent.stdout)).toMatchObject({ to, amount: '1000000000000000000' });
    expect(JSON.parse((await cli('wallet', 'status', '--json')).stdout)).toMatchObject({ tokenBalance: '12000000000000000000', withdrawn: '1000000000000000000' });
  });

  it('devnet down stops the chain; status then says the RPC does not answer', async () => {
    expect((await cli('devnet', 'down')).stdout).toMatch(/stopped/);
    const status = JSON.parse((await cli('wallet', 'status', '--json')).stdout);
    expect(status.tokenBalance).toBeNull();
    expect(status.chainError).toMatch(/does not answer/);
  });
});
