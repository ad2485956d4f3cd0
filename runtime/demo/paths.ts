/** Where the demo network keeps its files in the data folder (no ethers here: the idle agent imports this). */
import fs from 'node:fs';
import path from 'node:path';

export const DEMO_DIR = 'demo';
const PASSWORD_FILE = 'wallet-password';

export function demoPasswordFile(home: string): string {
  return path.join(home, DEMO_DIR, PASSWORD_FILE);
}

export function readDemoPassword(home: string): string | null {
  try {
    return fs.readFileSync(demoPasswordFile(home), 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/** A folder's identity (device and inode), or null when it is not there: one deleted and made again differs. */
export function folderId(dir: string): string | null {
  try {
    const st = fs.statSync(dir);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}
