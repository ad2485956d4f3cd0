import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh, empty folder under the system's temp folder; the caller removes it. */
export function makeTempDir(prefix = 'offshift-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fresh, empty data folder for one test; removed by the returned cleanup. */
export function makeTempHome(prefix = 'offshift-test-'): { home: string; cleanup: () => void } {
  const home = makeTempDir(prefix);
  return { home, cleanup: () => fs.rmSync(home, { recursive: true, force: true }) };
}
