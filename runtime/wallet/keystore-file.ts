import fs from 'node:fs';
import path from 'node:path';

/** Where the keystore lives; apart from keystore.ts so that asking needs no ethers. */
export const KEYSTORE_FILE = 'wallet-keystore.json';

export function keystorePath(home: string): string {
  return path.join(home, KEYSTORE_FILE);
}

export function keystoreExists(home: string): boolean {
  return fs.existsSync(keystorePath(home));
}
