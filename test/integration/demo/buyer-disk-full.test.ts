/**
 * The demo buyer after a full disk (issue 16): the demo network's folder (demo/: the market's
 * database, the buyer's pictures, demo.json) on a small tmpfs, filled while the real agent runs
 * demo jobs. Before, the buyer's submit waited for an answer that never came (the market could not
 * record the job) and it never submitted again, while `demo status` said all was well. Now each
 * step has a time limit: the buyer reports the problem and resumes once space returns, and
 * `demo status` names its last problem.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findDemoBinary } from '../../../runtime/demo/image.js';
import { removeAgentLeftovers } from '../../helpers/leftovers.js';
import { makeTempDir, makeTempHome } from '../../helpers/temp-home.js';
import { dockerAvailable } from '../../helpers/test-images.js';
import { until } from '../../helpers/until.js';
import { killAllOf } from './processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI = path.join(ROOT, 'dist', 'runtime', 'cli.js');

function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const dir = makeTempDir('offshift-tmpfs-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const skip = !fs.existsSync(CLI)
  ? 'the CLI is not built (npm run build)'
  : !findDemoBinary()
    ? 'the demo renderer is not built'
    : !dockerAvailable()
      ? 'the Docker engine is not reachable'
      : !canMountTmpfs()
        ? 'mounting a tmpfs needs root'
        : null;
if (skip) console.warn(`[skipped] the demo buyer after a full disk: ${skip}`);

interface Status {
  running: boolean;
  detail: string;
  buyer: { jobsSubmitted: number; problem: string | null; lastProblem: { message: string; at: string } | null };
}

describe.skipIf(skip !== null)('the demo buyer after a full disk', () => {
  const temp = makeTempHome('offshift-demo-full-');
  const demoDir = path.join(temp.home, 'demo');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OFFSHIFT_HOME: temp.home,
    OFFSHIFT_DEMO_IN_PROCESS: '0',
    // Short waits, so that the test sees a few rounds.
    OFFSHIFT_DEMO_PAUSE_SECONDS: '1',
    OFFSHIFT_DEMO_RETRY_SECONDS: '1',
    OFFSHIFT_DEMO_SUBMIT_TIMEOUT_SECONDS: '3',
    OFFSHIFT_DEMO_RESULT_TIMEOUT_SECONDS: '30',
  };
  delete env.OFFSHIFT_MARKET;
  let agent: ChildProcess | null = null;
  const filler = path.join(demoDir, 'filler');

  afterAll(() => {
    if (agent && agent.exitCode === null) agent.kill('SIGKILL');
    killAllOf(temp.home);
    removeAgentLeftovers(temp.home); // unmounts the tmpfs too
    try {
      execFileSync('umount', ['-l', demoDir], { stdio: 'ignore' });
    } catch {}
    temp.cleanup();
  });

  const status = (): Status => JSON.parse(execFileSync(process.execPath, [CLI, 'demo', 'status', '--json'], { env, encoding: 'utf8', timeout: 30_000 })) as Status;

  it('reports the problem, resumes by itself once space returns, and `demo status` names the last problem', async () => {
    fs.mkdirSync(demoDir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', demoDir]);
    agent = spawn(process.execPath, [CLI, 'agent', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    agent.stdout!.on('data', (c: Buffer) => (log += c.toString()));
    agent.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    const tail = () => `${log.split('\n').slice(-15).join('\n')}\ndemo.log: ${(() => {
      try {
        return fs.readFileSync(path.join(demoDir, 'demo.log'), 'utf8').split('\n').slice(-10).join('\n');
      } catch {
        return '';
      }
    })()}`;

    await until('a first demo job ends', () => /"msg":"job state","id":"[^"]+","state":"succeeded"/.test(log), 120_000, { detail: tail });
    // The disk fills up.
    const fd = fs.openSync(filler, 'w');
    const block = Buffer.alloc(1 << 20, 1);
    try {
      for (;;) fs.writeSync(fd, block);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    const submittedWhenFull = status().buyer.jobsSubmitted;
    // Long enough for the buyer to run into it (a submit the market cannot record, a picture it cannot write).
    await new Promise((r) => setTimeout(r, 10_000));
    fs.rmSync(filler);

    // Space is back: the buyer resumes by itself and says what happened.
    const resumed = await until(
      'the demo buyer submits again',
      () => {
        const s = status();
        return s.buyer.jobsSubmitted > submittedWhenFull && s.buyer.lastProblem ? s : null;
      },
      90_000,
      { detail: () => `${JSON.stringify(status())}\n${tail()}` },
    );
    expect(resumed.running).toBe(true);
    expect(resumed.buyer.lastProblem!.message.length).toBeGreaterThan(10);
    expect(resumed.detail).toMatch(/last problem/);
    // And it goes on: another job is paid and ends.
    const after = resumed.buyer.jobsSubmitted;
    await until('another demo job is submitted', () => status().buyer.jobsSubmitted > after, 90_000, { detail: tail });
  }, 360_000);
});
