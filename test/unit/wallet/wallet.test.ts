import fs from 'node:fs';
import { Wallet } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatTokens } from '../../../runtime/ledger/tokens.js';
import { split, join, SPLIT_LIMIT } from '../../../runtime/ledger/amount.js';
import { createKeystore, decryptKeystore, importKeystore, keystorePath, readKeystore } from '../../../runtime/wallet/keystore.js';
import { checkDestination } from '../../../runtime/wallet/service.js';
import { parseVoucher, recoverVoucherSigner, signVoucher } from '../../../runtime/wallet/voucher.js';
import { readWalletSettings, walletSettingsPath, writeWalletSettings } from '../../../runtime/wallet/settings.js';
import { redact } from '../../../runtime/log.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const MNEMONIC = 'test test test test test test test test test test test junk';

describe('keystore', () => {
  let temp: ReturnType<typeof makeTempHome>;
  beforeEach(() => (temp = makeTempHome()));
  afterEach(() => temp.cleanup());

  it('imports a recovery phrase (any spacing and case) to the standard first account', async () => {
    const w = await importKeystore(temp.home, 'password1', { mnemonic: `  ${MNEMONIC.toUpperCase().replaceAll(' ', '   ')} ` }, { scryptN: 1024 });
    expect(w.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(readKeystore(temp.home).address).toBe(w.address);
    const back = await decryptKeystore(temp.home, 'password1');
    expect(back.privateKey).toBe(w.privateKey);
  });

  it('imports a private key with or without 0x', async () => {
    const key = '59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
    const w = await importKeystore(temp.home, 'password1', { privateKey: key }, { scryptN: 1024 });
    expect(w.address).toBe(new Wallet(`0x${key}`).address);
  });

  it('refuses bad secrets and short passwords with clear errors, writing nothing', async () => {
    await expect(importKeystore(temp.home, 'password1', { mnemonic: 'one two three' })).rejects.toThrow(/recovery phrase is not valid/);
    await expect(importKeystore(temp.home, 'password1', { privateKey: '0x1234' })).rejects.toThrow(/private key is not valid/);
    await expect(importKeystore(temp.home, 'password1', { privateKey: '0x' + 'f'.repeat(64) })).rejects.toThrow(/out of range/);
    await expect(createKeystore(temp.home, 'short')).rejects.toThrow(/at least 8/);
    expect(fs.existsSync(keystorePath(temp.home))).toBe(false);
  });

  it('the keystore file holds neither the key nor the phrase in clear', async () => {
    const { wallet, mnemonic } = await createKeystore(temp.home, 'password1', { scryptN: 1024 });
    const text = fs.readFileSync(keystorePath(temp.home), 'utf8');
    expect(text).not.toContain(wallet.privateKey.slice(2));
    expect(text).not.toContain(mnemonic);
  });

  it('a missing keystore says how to make one; a damaged one says it was kept', async () => {
    expect(() => readKeystore(temp.home)).toThrow(/no wallet yet/);
    fs.writeFileSync(keystorePath(temp.home), 'garbage');
    expect(() => readKeystore(temp.home)).toThrow(/damaged.*left untouched/);
    expect(fs.readFileSync(keystorePath(temp.home), 'utf8')).toBe('garbage');
  });
});

describe('withdrawal destination', () => {
  it('accepts a checksummed or all-lowercase address, refuses a wrong checksum and the zero address', () => {
    const a = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    expect(checkDestination(a)).toBe(a);
    expect(checkDestination(a.toLowerCase())).toBe(a);
    expect(() => checkDestination('0x70997970c51812dc3A010C7d01b50e0d17dc79C8')).toThrow(/checksum/);
    expect(() => checkDestination('0x0000000000000000000000000000000000000000')).toThrow(/zero address/);
    expect(() => checkDestination('vitalik.eth')).toThrow(/not an address/);
  });
});

describe('vouchers', () => {
  it('parses a voucher file and recovers its signer; a changed field recovers someone else', async () => {
    const buyer = Wallet.createRandom();
    const escrow = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
    const signed = await signVoucher(buyer, 31337, escrow, { buyer: buyer.address, provider: escrow, jobId: '0x' + '1'.repeat(64), cumulativeAmount: '1000', expiry: 2_000_000_000 });
    const parsed = parseVoucher(JSON.parse(JSON.stringify(signed)));
    expect(recoverVoucherSigner(parsed, 31337, escrow)).toBe(buyer.address);
    expect(recoverVoucherSigner({ ...parsed, voucher: { ...parsed.voucher, cumulativeAmount: '1001' } }, 31337, escrow)).not.toBe(buyer.address);
    expect(recoverVoucherSigner(parsed, 1, escrow)).not.toBe(buyer.address);
    expect(() => parseVoucher({ ...signed, voucher: { ...signed.voucher, cumulativeAmount: 1000 } })).toThrow(/not a valid voucher/);
    expect(() => parseVoucher({ ...signed, voucher: { ...signed.voucher, cumulativeAmount: '-5' } })).toThrow(/not a valid voucher/);
    expect(() => parseVoucher({ ...signed, extra: 1 })).toThrow(/not a valid voucher/);
  });

  it('signatures and keys are redacted from logs', () => {
    expect(redact({ signature: '0xabc', privateKey: '0x1', mnemonic: 'a b', password: 'p', txHash: '0x2' })).toEqual({
      signature: '[redacted]',
      privateKey: '[redacted]',
      mnemonic: '[redacted]',
      password: '[redacted]',
      txHash: '0x2',
    });
  });
});

describe('amounts', () => {
  it('split and join are exact up to the limit, refused beyond', () => {
    for (const v of [0n, 1n, 10n ** 12n - 1n, 10n ** 12n, 123456789012345678901234567890n, SPLIT_LIMIT - 1n]) {
      const [hi, lo] = split(v);
      expect(join(hi, lo)).toBe(v);
    }
    expect(() => split(SPLIT_LIMIT)).toThrow(/outside/);
    expect(() => split(-1n)).toThrow(/outside/);
  });

  it('formats base units as exact token decimals', () => {
    expect(formatTokens(12_500_000_000_000_000_000n, 18)).toBe('12.5');
    expect(formatTokens(1n, 18)).toBe('0.000000000000000001');
    expect(formatTokens(0n, 18)).toBe('0');
    expect(formatTokens(7n, 0)).toBe('7');
  });
});

describe('wallet settings file', () => {
  let temp: ReturnType<typeof makeTempHome>;
  beforeEach(() => (temp = makeTempHome()));
  afterEach(() => temp.cleanup());

  it('defaults to the local chain; round-trips; an invalid file is a clear error and is kept', () => {
    expect(readWalletSettings(temp.home)).toEqual({ network: 'devnet', networks: [], autoRedeemThreshold: null });
    writeWalletSettings(temp.home, { network: 'devnet', networks: [], autoRedeemThreshold: '1000' });
    expect(readWalletSettings(temp.home).autoRedeemThreshold).toBe('1000');
    expect(fs.statSync(walletSettingsPath(temp.home)).mode & 0o777).toBe(0o600);
    fs.writeFileSync(walletSettingsPath(temp.home), '{"autoRedeemThreshold": 5}');
    expect(() => readWalletSettings(temp.home)).toThrow(/invalid/);
    expect(fs.readFileSync(walletSettingsPath(temp.home), 'utf8')).toBe('{"autoRedeemThreshold": 5}');
  });
});
