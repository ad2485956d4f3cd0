/**
 * The real agent in its own process, for the SIGKILL fault test: starts (recovering what the last
 * one left), then submits jobs through its API until killed. argv: home, image, round.
 * Prints `READY` once started and `SUBMITTED <id> <kind>` once each job's record exists.
 */
import { createAgent } from '../../../runtime/agent/agent.js';
import { silentLogger } from '../../../runtime/log.js';

const [home, image, round] = process.argv.slice(2) as [string, string, string];
const agent = createAgent({ home, env: { ...process.env, OFFSHIFT_HOME: home }, log: silentLogger });
await agent.start();
process.stdout.write('READY\n');
const client = agent.client();
const kinds: Record<string, string[]> = {
  ok: ['sh', '-c', 'echo ok'],
  slow: ['sh', '-c', 'sleep 0.6; echo slow'],
  fail: ['sh', '-c', 'exit 3'],
};
for (let n = 0; ; n++) {
  const kind = Object.keys(kinds)[n % 3]!;
  const id = `fi-${round}-${n}-${kind}`;
  try {
    await client.call('jobs.run', { spec: { id, image, command: kinds[kind]!, timeoutSeconds: 60 } });
  } catch (error) {
    // The runner admits a job only within the machine's free CPUs and memory: wait for one to end.
    if ((error as { code?: string }).code !== 'no-capacity') throw error;
    await new Promise((r) => setTimeout(r, 100));
    continue;
  }
  process.stdout.write(`SUBMITTED ${id} ${kind}\n`);
  await new Promise((r) => setTimeout(r, 150));
}
