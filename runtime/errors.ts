/**
 * An error a person may see. `code` is stable and machine-readable; `message` says what
 * happened, why, and what to do next.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export interface ErrorBody {
  code: string;
  message: string;
}

export const DISK_FULL_MESSAGE =
  "The disk that holds Offshift's data folder is full (no space left on the device). Nothing was changed: free some space on that disk, or move the data folder (OFFSHIFT_HOME), then try again. What was saved before is intact.";

export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof AppError) return { code: error.code, message: error.message };
  // A full disk (a file write, or SQLite's SQLITE_FULL) says what to do (runtime/storage/disk-full.ts).
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return { code: 'disk-full', message: DISK_FULL_MESSAGE };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', message: `Unexpected error: ${message}. See the agent log for details.` };
}
