/**
 * A runner in its own process, run by nonroot.test.ts as an unprivileged user (setpriv: another
 * uid, the docker group, no capabilities), as the desktop app and the system service run.
 * argv: home, mode (`run` <spec JSON> | `recover`). Prints `RUNNING <id>` once a job runs and,
 * at its end, `RESULT <json>`: the job and the agent's lines to its viewers.
 */
import path from 'node:path';
import { JobRunner } from '../../../runtime/jobs/runner.js';
import type { Job } from '../../../runtime/jobs/schema.js';
import { connectDocker } from '../../../runtime/engine/index.js';
import { canMountOutput } from '../../../runtime/sandbox/mount-capability.js';
import { DATABASE_FILE, openDatabase } from '../../../runtime/storage/database.js';

const [home, mode, specJson] = process.argv.slice(2);
const system: string[] = [];
const runner = new JobRunner({
  db: openDatabase(path.join(home!, DATABASE_FILE)),
  docker: connectDocker(),
  home: home!,
  graceMs: 1000,
  onLog: (e) => e.stream === 'system' && system.push(e.text),
});
runner.onChange((job) => {
  if (job.state === 'running') process.stdout.write(`RUNNING ${job.id}\n`);
});
let done: Job;
if (mode === 'recover') {
  const result = await runner.recover();
  const ids = [...result.readopted, ...result.finished];
  done = ids.length ? await runner.wait(ids[0]!) : runner.list()[0]!;
} else {
  const job = await runner.submit(JSON.parse(specJson!));
  done = await runner.wait(job.id);
}
await runner.close();
process.stdout.write(`RESULT ${JSON.stringify({ job: done, system, uid: process.getuid?.(), canMount: canMountOutput() })}\n`);
