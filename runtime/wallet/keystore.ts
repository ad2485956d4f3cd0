/**
 * The keystore: ethers' encrypted JSON (scrypt) in the data folder, mode 0600. The address is
 * readable without the password; the key only with it. A file that cannot be read as a
 * keystore is reported and kept as it is: never overwritten.
 */
import fs from 'node:fs';
import { encryptKeystoreJson, getAddress, HDNodeWallet, Mnemonic, Wallet, type KeystoreAccount } from 'ethers';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { statCached } from '../storage/stat-cache.js';
import { keystoreExists, keystorePath } from './keystore-file.js';
import { useNativeScrypt } from './native-scrypt.js';

// Keystore scrypt in native code: its 128 MiB working memory is freed at once (native-scrypt.ts).
useNativeScrypt();

export { KEYSTORE_FILE, keystoreExists, keystorePath } from './keystore-file.js';

export type Signer = Wallet | HDNodeWallet;


/** The keystore's JSON and address, or a clear error when it is damaged (read again only once the file changed). */
export const readKeystore: (home: string) => { json: string; address: string } = statCached(keystorePath, readKeystoreFile, (k) => ({ ...k }));

function readKeystoreFile(home: string): { json: string; address: string } {
  const file = keystorePath(home);
  let json: string;
  try {
    json = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('no-wallet', 'There is no wallet yet. Create one (`offshift wallet create`) or import one (`offshift wallet import`).');
    const why = (error as NodeJS.ErrnoException).code === 'EISDIR' ? 'it is a folder, not a file' : (error as Error).message;
    throw new AppError(
      'keystore-unreadable',
      `Cannot read the wallet keystore ${file}: ${why}. It has been left untouched. Put the keystore file back there (from a backup), or move what is there aside and import your wallet again from its recovery phrase.`,
    );
  }
  const corrupt = (why: string) =>
    new AppError(
      'keystore-corrupt',
      `The wallet keystore ${file} is damaged (${why}). It has been left untouched. Restore it from a backup, or move it aside and import your wallet again from its recovery phrase.`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw corrupt('not JSON');
  }
  const p = parsed as { address?: unknown; crypto?: unknown; Crypto?: unknown };
  if (typeof p !== 'object' || p === null || typeof p.address !== 'string' || (typeof p.crypto !== 'object' && typeof p.Crypto !== 'object')) throw corrupt('not an encrypted keystore');
  try {
    return { json, address: getAddress(p.address.startsWith('0x') ? p.address : `0x${p.address}`) };
  } catch {
    throw corrupt('its address is invalid');
  }
}

export async function decryptKeystore(home: string, password: string): Promise<Signer> {
  const { json, address } = readKeystore(home);
  let wallet: Signer;
  try {
    wallet = await Wallet.fromEncryptedJson(json, password);
  } catch (error) {
    const message = (error as Error).message;
    if (/incorrect password|invalid password/i.test(message)) throw new AppError('wrong-password', 'Wrong wallet password. Try again; if it is lost, import the wallet again from its recovery phrase.');
    throw new AppError('keystore-corrupt', `The wallet keystore ${keystorePath(home)} cannot be decrypted (${message}). It has been left untouched.`);
  }
  if (wallet.address !== address) throw new AppError('keystore-corrupt', `The wallet keystore ${keystorePath(home)} is inconsistent (its key does not match its address). It has been left untouched.`);
  return wallet;
}

export interface KeystoreOptions {
  /** scrypt cost; ethers' default (2^17) unless lowered (tests only). */
  scryptN?: number;
}

async function save(home: string, wallet: Signer, password: string, options: KeystoreOptions): Promise<void> {
  const account: KeystoreAccount = { address: wallet.address, privateKey: wallet.privateKey };
  if (wallet instanceof HDNodeWallet && wallet.mnemonic) {
    account.mnemonic = { entropy: wallet.mnemonic.entropy, path: wallet.path ?? undefined, locale: 'en' };
  }
  if (options.scryptN !== undefined && (options.scryptN < 1024 || (options.scryptN & (options.scryptN - 1)) !== 0)) {
    throw new AppError('usage', `scrypt N ${options.scryptN} is refused: a power of two of at least 1024 (tests), else the default.`);
  }
  const json = await encryptKeystoreJson(account, password, options.scryptN ? { scrypt: { N: options.scryptN } } : {});
  if (keystoreExists(home)) throw new AppError('wallet-exists', `A wallet already exists in ${keystorePath(home)}; it was left as it is.`);
  writeFileAtomic(keystorePath(home), json, 0o600);
}

function refuseExisting(home: string): void {
  if (keystoreExists(home)) {
    throw new AppError('wallet-exists', `A wallet already exists (${keystorePath(home)}). Offshift keeps one wallet; move that file aside first if you really mean to replace it.`);
  }
}

function checkPassword(password: string): void {
  if (password.length < 8) throw new AppError('invalid-input', 'Use a wallet password of at least 8 characters.');
}

/** A new random wallet; its mnemonic is returned once, for the owner to write down. */
export async function createKeystore(home: string, password: string, options: KeystoreOptions = {}): Promise<{ wallet: Signer; mnemonic: string }> {
  refuseExisting(home);
  checkPassword(password);
  const wallet = Wallet.createRandom();
  await save(home, wallet, password, options);
  return { wallet, mnemonic: wallet.mnemonic!.phrase };
}

export async function importKeystore(home: string, password: string, secret: { mnemonic?: string; privateKey?: string }, options: KeystoreOptions = {}): Promise<Signer> {
  refuseExisting(home);
  checkPassword(password);
  let wallet: Signer;
  if (secret.mnemonic !== undefined) {
    const phrase = secret.mnemonic.trim().toLowerCase().split(/\s+/).join(' ');
    if (!Mnemonic.isValidMnemonic(phrase)) throw new AppError('invalid-input', 'That recovery phrase is not valid (check the words and their order; 12 or 24 English words).');
    wallet = HDNodeWallet.fromPhrase(phrase);
  } else {
    const key = (secret.privateKey ?? '').trim();
    const hex = key.startsWith('0x') ? key : `0x${key}`;
    if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new AppError('invalid-input', 'That private key is not valid (64 hex digits, optionally starting with 0x).');
    try {
      wallet = new Wallet(hex);
    } catch {
      throw new AppError('invalid-input', 'That private key is not valid (out of range for secp256k1).');
    }
  }
  await save(home, wallet, password, options);
  return wallet;
}
