/**
 * A full disk under the data folder: whatever wrote (a settings file, the SQLite database, a
 * keystore) is told the same thing, with what to do (the API's toErrorBody maps SQLITE_FULL and
 * ENOSPC the same way).
 */
import { AppError, DISK_FULL_MESSAGE } from '../errors.js';

/** ENOSPC, EDQUOT (quota) or SQLite's SQLITE_FULL, however wrapped. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL' || (error instanceof AppError && error.code === 'disk-full');
}

export function diskFullError(): AppError {
  return new AppError('disk-full', DISK_FULL_MESSAGE);
}
