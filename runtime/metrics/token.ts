/**
 * The bearer token Prometheus sends: `metrics-token` in the data folder, mode 0600, made when the
 * listener is first turned on and kept across restarts (the studio copies it once).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const TOKEN_FILE = 'metrics-token';

export function tokenPath(home: string): string {
  return path.join(home, TOKEN_FILE);
}

/** The token, made if missing; a file others could read is narrowed to 0600 again. */
export function ensureToken(home: string): string {
  const file = tokenPath(home);
  try {
    const token = fs.readFileSync(file, 'utf8').trim();
    if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
    if (token.length >= 32) return token;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = crypto.randomBytes(32).toString('hex');
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, token + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
  return token;
}

/** Constant-time comparison of an Authorization header with the token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const a = crypto.createHash('sha256').update(m[1]!).digest();
  const b = crypto.createHash('sha256').update(token).digest();
  return crypto.timingSafeEqual(a, b);
}
