/**
 * A runner in its own process, for the recovery tests (which kill it with SIGKILL mid-job).
 * argv: home, spec JSON. Prints `RUNNING <id>` once the job runs.
 */
import path from 'node:path';
import { JobRunner } from '../../../runtime/jobs/runner.js';
import { connectDocker } from '../../../runtime/engine/index.js';
import { DATABASE_FILE, openDatabase } from '../../../runtime/storage/database.js';

const [home, specJson] = process.argv.slice(2);
const runner = new JobRunner({ db: openDatabase(path.join(home!, DATABASE_FILE)), docker: connectDocker(), home: home!, graceMs: 1000 });
runner.onChange((job) => {
  if (job.state === 'running') process.stdout.write(`RUNNING ${job.id}\n`);
});
const job = await runner.submit(JSON.parse(specJson!));
await runner.wait(job.id);
process.stdout.write(`DONE ${job.id}\n`);
