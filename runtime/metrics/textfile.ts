/**
 * The node_exporter textfile-collector output: the same text, written atomically (a temp file in
 * the same folder, then a rename) so that node_exporter never reads half a file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.js';

export function writeTextfile(file: string, text: string): void {
  // The temp name does not end in .prom: node_exporter reads only *.prom.
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/** Removes a textfile this agent wrote (gone already is fine; any other failure is logged, never thrown). */
export function removeTextfile(file: string, log: Logger): void {
  try {
    fs.rmSync(file, { force: true });
  } catch (error) {
    log.warn('metrics: the old textfile could not be removed', { file, error: (error as Error).message });
  }
}
