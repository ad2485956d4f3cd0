/**
 * `offshift job run|list|logs|cancel`. With a running agent (runtime/agent/discovery.ts), they
 * talk to it over its WebSocket API, so the job runs in the agent's runner and shows on its
 * dashboard. Without one, `job run` runs the job in this process through the same JobRunner
 * over the same database, and list/logs read that database.
 */
import crypto from 'node:crypto';
import { AppError } from '../../errors.js';
import { isFinalState, JOBS_PAGE, type Job, type JobLogEvent, type JobSpecInput } from '../../jobs/schema.js';
import { JobStore, listPage } from '../../jobs/store.js';
import { viaAgentOrLocal } from '../agent-or-local.js';
import { TerminalLines } from '../terminal-lines.js';
import { PullProgressPrinter } from './images-progress.js';
import { numberOption, option, type ParsedArgs } from '../args.js';
import type { CliCommand } from '../command.js';
import { formatTable } from '../table.js';

/** The spec from `job run`'s options; the runner validates it (and names a bad field). */
export function specFromArgs(args: ParsedArgs, id: string): JobSpecInput {
  const image = option(args, 'image');
  if (!image) throw new AppError('usage', 'job run needs --image REF (repo@sha256:<digest> or a local image id sha256:<…>).');
  if (!args.rest.length) throw new AppError('usage', 'job run needs a command after `--`, e.g. `offshift job run --image sha256:… -- echo hello`.');
  const spec: JobSpecInput = { id, image, command: args.rest };
  const gpus = option(args, 'gpus');
  if (gpus !== undefined) spec.gpus = gpus === 'all' ? 'all' : /^\d+$/.test(gpus) ? Number(gpus) : gpus.split(',').map((g) => g.trim());
  const cpus = numberOption(args, 'cpus');
  if (cpus !== undefined) spec.cpus = cpus;
  const memory = numberOption(args, 'memory');
  if (memory !== undefined) spec.memoryMiB = memory;
  const shm = numberOption(args, 'shm');
  if (shm !== undefined) spec.shmMiB = shm;
  const disk = numberOption(args, 'disk');
  if (disk !== undefined) spec.diskMiB = disk;
  const timeout = numberOption(args, 'timeout');
  if (timeout !== undefined) spec.timeoutSeconds = timeout;
  const network = option(args, 'network');
  if (network !== undefined && network !== 'none') {
    if (!network.startsWith('allow:')) throw new AppError('usage', `--network is none or allow:HOST[:PORT],…; not "${network}".`);
    spec.network = { allow: network.slice('allow:'.length).split(',').filter(Boolean) };
  }
  const env: Record<string, string> = {};
  for (const pair of args.options.get('env') ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new AppError('usage', `--env takes NAME=VALUE, not "${pair}".`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (Object.keys(env).length) spec.env = env;
  return spec;
}

function summary(job: Job): { id: string; state: string; exitCode: number | null; reason: string; durationMs: number } {
  const durationMs = job.startedAt !== null && job.endedAt !== null ? Math.max(0, job.endedAt - job.startedAt) : 0; // the engine's exit time may precede our start stamp by a few ms
  return { id: job.id, state: job.state, exitCode: job.exitCode, reason: job.reason, durationMs };
}

export const jobRunCommand: CliCommand = {
  name: 'job run',
  summary: 'Run one job in the sandbox, stream its log, exit non-zero unless it succeeded.',
  usage:
    'job run --image REF [--gpus N|all|UUID,…] [--cpus N] [--memory MiB] [--shm MiB] [--disk MiB] [--timeout SECONDS] [--network none|allow:HOST[:PORT],…] [--env K=V]… [--json] -- COMMAND…',
  async run(args, io) {
    const json = args.flags.has('json');
    const spec = specFromArgs(args, crypto.randomUUID());
    // With --json, stdout carries only the final line: the log goes to stderr. A log line left
    // open never runs into what follows (terminal-lines.ts).
    const lines = new TerminalLines(io);
    // The image download's progress (images-progress.ts): one updating line on a terminal, the log written around it.
    const progress = new PullProgressPrinter(io.stderr, io.stderrIsTerminal === true);
    const write = (e: JobLogEvent) => progress.around(() => lines.write(json || e.stream !== 'stdout' ? 'stderr' : 'stdout', e.text), e.text.endsWith('\n'));
    // Past the pull, the progress line is closed: done when the job went on to start, else stopped.
    const pullEnded = (j: Job) => {
      if (j.state !== 'queued' && j.state !== 'pulling') progress.finish(['starting', 'running', 'succeeded'].includes(j.state) ? 'done' : 'stopped');
    };
    let cancel: (() => Promise<unknown>) | null = null;
    const onSignal = () => {
      progress.around(() => {
        lines.endLine();
        io.stderr('Cancelling the job (SIGTERM, then SIGKILL after the grace period)…\n');
      }, true);
      void cancel?.();
    };
    process.on('SIGINT', onSignal);
    let job: Job;
    try {
      job = await viaAgentOrLocal(
        io,
        ({ client }) =>
          new Promise<Job>((resolve, reject) => {
            client.on('job.log', (e) => e.id === spec.id && write(e));
            client.on('job.progress', (e) => e.id === spec.id && progress.update(e));
            client.on('job.update', (j) => {
              if (j.id !== spec.id) return;
              pullEnded(j);
              if (isFinalState(j.state)) resolve(j);
            });
            cancel = () => client.call('jobs.cancel', { id: spec.id! });
            client.call('jobs.run', { spec }).then((r) => isFinalState(r.job.state) && resolve(r.job), reject);
          }),
        async (local) => {
          const runner = local.jobs(write, (e) => progress.update(e));
          runner.onChange((j) => j.id === spec.id && pullEnded(j));
          const queued = await runner.submit(spec);
          cancel = () => runner.cancel(queued.id);
          return runner.wait(queued.id);
        },
      );
    } finally {
      process.off('SIGINT', onSignal);
    }
    progress.finish('stopped');
    lines.endLine();
    if (json) io.stdout(JSON.stringify(summary(job)) + '\n');
    else io.stderr(`Job ${job.id}: ${job.state} (${job.reason}). ${job.detail}\n`);
    return job.state === 'succeeded' ? 0 : 1;
  },
};

function duration(job: Pick<Job, 'startedAt' | 'endedAt'>): string {
  if (job.startedAt === null) return '-';
  const ms = (job.endedAt ?? Date.now()) - job.startedAt;
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export const jobListCommand: CliCommand = {
  name: 'job list',
  summary: 'List jobs, newest first, with their state and reason.',
  usage: `job list [--limit N (default ${JOBS_PAGE.defaultLimit}, at most ${JOBS_PAGE.maxLimit})] [--offset N] [--json]`,
  async run(args, io) {
    const limit = numberOption(args, 'limit') ?? JOBS_PAGE.defaultLimit;
    const offset = numberOption(args, 'offset') ?? 0;
    if (!Number.isInteger(limit) || limit < 1 || limit > JOBS_PAGE.maxLimit) throw new AppError('usage', `--limit must be 1 to ${JOBS_PAGE.maxLimit}.`);
    if (!Number.isInteger(offset) || offset < 0) throw new AppError('usage', '--offset must be 0 or more.');
    const page = await viaAgentOrLocal(
      io,
      ({ client }) => client.call('jobs.list', { limit, offset }),
      async (local) => listPage(new JobStore(local.database()), limit, offset),
    );
    const jobs = page.jobs;
    if (args.flags.has('json')) {
      io.stdout(JSON.stringify(jobs) + '\n');
      return 0;
    }
    if (!jobs.length) {
      io.stdout('No jobs yet. Run one with `offshift job run --image sha256:… -- COMMAND`.\n');
      return 0;
    }
    io.stdout(
      formatTable(
        ['ID', 'STATE', 'REASON', 'GPUS', 'DURATION', 'CREATED'],
        jobs.map((j) => [j.id, j.state, j.reason, j.gpus.join(',') || '-', duration(j), new Date(j.createdAt).toISOString()]),
      ) + (page.nextOffset !== null ? `Jobs ${offset + 1}–${offset + jobs.length} of ${page.total}: \`offshift job list --offset ${page.nextOffset}\` shows more.\n` : ''),
    );
    return 0;
  },
};

export const jobLogsCommand: CliCommand = {
  name: 'job logs',
  summary: "Print a job's kept log.",
  usage: 'job logs ID [--json]',
  async run(args, io) {
    const id = args.positionals[0];
    if (!id) throw new AppError('usage', 'job logs needs a job id (`offshift job list` shows them).');
    const logs = await viaAgentOrLocal(
      io,
      ({ client }) => client.call('jobs.logs', { id }),
      async (local) => local.jobs().logs(id),
    );
    io.stdout(args.flags.has('json') ? JSON.stringify(logs) + '\n' : logs.text);
    return 0;
  },
};

export const jobCancelCommand: CliCommand = {
  name: 'job cancel',
  summary: 'Cancel a job (SIGTERM, a grace period, then SIGKILL).',
  usage: 'job cancel ID [--json]',
  async run(args, io) {
    const id = args.positionals[0];
    if (!id) throw new AppError('usage', 'job cancel needs a job id (`offshift job list` shows them).');
    const json = args.flags.has('json');
    return viaAgentOrLocal(
      io,
      async ({ client }) => {
        const { job } = await client.call('jobs.cancel', { id });
        io.stdout(json ? JSON.stringify(summary(job)) + '\n' : `Job ${id}: ${job.state} (${job.reason}).\n`);
        return 0;
      },
      async (local) => {
        const job = local.jobs().get(id);
        if (!job) throw new AppError('not-found', `There is no job "${id}".`);
        if (!isFinalState(job.state)) {
          throw new AppError('no-agent', `No agent is running, so job ${id} is run by an \`offshift job run\` in another terminal: press Ctrl-C there to cancel it.`);
        }
        io.stdout(json ? JSON.stringify(summary(job)) + '\n' : `Job ${id} has already ended: ${job.state} (${job.reason}).\n`);
        return 0;
      },
    );
  },
};

export const jobCommands: CliCommand[] = [jobRunCommand, jobListCommand, jobLogsCommand, jobCancelCommand];
