import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { decryptKeystore } from '../../../runtime/wallet/keystore.js';
import { nativeScrypt, nativeScryptSync } from '../../../runtime/wallet/native-scrypt.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const text = (s: string) => new TextEncoder().encode(s);

describe('native scrypt for the keystore', () => {
  it('is scrypt: the RFC 7914 test vectors', async () => {
    expect(hex(await nativeScrypt(text('password'), text('NaCl'), 1024, 8, 16, 64))).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    );
    expect(hex(nativeScryptSync(text('pleaseletmein'), text('SodiumChloride'), 16384, 8, 1, 64))).toBe(
      '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887',
    );
  });

  it("opens a keystore at ethers' default cost (2^17), and refuses a wrong password", async () => {
    const wallet = Wallet.createRandom();
    const json = await wallet.encrypt('correct horse battery staple');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const home = makeTempDir('offshift-scrypt-');
    try {
      fs.writeFileSync(path.join(home, 'wallet-keystore.json'), json, { mode: 0o600 });
      const signer = await decryptKeystore(home, 'correct horse battery staple');
      expect(signer.address).toBe(wallet.address);
      await expect(decryptKeystore(home, 'wrong')).rejects.toThrow();
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
