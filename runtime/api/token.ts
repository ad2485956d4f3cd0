import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { AppError } from '../errors.js';

export const TOKEN_FILE = 'api-token';
const TOKEN = /^[0-9a-f]{64}$/;

/**
 * The headless agent's API token: random, kept in the data folder with mode 0600. Made only
 * when there is no file; a file that is not a token (empty, garbage, a folder) is never
 * replaced behind the owner's back (every client holding the old token would stop working):
 * the agent refuses to start and says which file and what to do.
 */
export function loadOrCreateToken(home: string, log?: Logger): string {
  const file = path.join(home, TOKEN_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw unusable(file, code === 'EISDIR' ? 'it is a folder' : `it cannot be read (${code ?? String(error)})`);
    const token = crypto.randomBytes(32).toString('hex');
    writeFileAtomic(file, token + '\n', 0o600);
    log?.info('made a new API token (clients connect with it)', { file });
    return token;
  }
  const existing = text.trim();
  if (!TOKEN.test(existing)) throw unusable(file, existing ? 'it does not hold a token (64 hex digits)' : 'it is empty');
  fs.chmodSync(file, 0o600);
  return existing;
}

function unusable(file: string, why: string): AppError {
  return new AppError(
    'token-invalid',
    `The API token file ${file} is unusable: ${why}. It was left as it is. Remove it (rm -r "${file}") and start the agent again to make a new token; clients that held the old one must be given the new one.`,
  );
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
