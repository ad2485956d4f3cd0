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
