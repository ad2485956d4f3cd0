import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic-file.js';

export const TOKEN_FILE = 'api-token';

/** The headless agent's API token: random, kept in the data folder with mode 0600. */
export function loadOrCreateToken(home: string): string {
  const file = path.join(home, TOKEN_FILE);
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(existing)) {
      fs.chmodSync(file, 0o600);
      return existing;
    }
  } catch {
    // No token yet (or unreadable): make a new one.
  }
  const token = crypto.randomBytes(32).toString('hex');
  writeFileAtomic(file, token + '\n', 0o600);
  return token;
}

export function readToken(home: string): string | null {
  try {
    const token = fs.readFileSync(path.join(home, TOKEN_FILE), 'utf8').trim();
    return token || null;
  } catch {
    return null;
  }
}

export function tokensEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && crypto.timingSafeEqual(ba, bb);
}
