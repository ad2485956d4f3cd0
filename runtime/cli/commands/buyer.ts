/**
 * `offshift buyer submit`: a buyer from a shell. Signs in to a market with the buyer's own key,
 * submits one job, stays attached while it runs, checks each usage report and pays it with a
 * voucher, writes the output files, and prints the result as JSON. Progress goes to stderr.
 */
import { Wallet } from 'ethers';
import { AppError } from '../../errors.js';
import { formatTokens } from '../../ledger/tokens.js';
import { jobRequestSchema, MAX_ATTEMPTS, type JobRequestInput } from '../../../protocol/index.js';
import type { BuyerEvent } from '../../../buyer/index.js';
import { numberOption, option, type ParsedArgs } from '../args.js';
import type { CliCommand } from '../command.js';
import { parseTokenAmount, printJson, readSecret } from './wallet-common.js';

const TOKEN_DECIMALS = 18;
/** 1 token per hour for the whole job, unless --price-per-hour says otherwise. */
const DEFAULT_PRICE_PER_HOUR = '1';

function intOption(args: ParsedArgs, name: string, min: number): number | undefined {
  const n = numberOption(args, name);
  if (n !== undefined && (!Number.isInteger(n) || n < min)) throw new AppError('usage', `--${name} must be a whole number, at least ${min}.`);
  return n;
}

function readKey(args: ParsedArgs): Wallet {
  const text = readSecret(args, 'key-file', 'key');
  if (text === undefined) throw new AppError('usage', "Give --key-file FILE: a file holding the buyer's private key (0x and 64 hex digits).");
  const key = text.trim();
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key)) throw new AppError('usage', 'The key file must hold one private key: 0x and 64 hex digits.');
  return new Wallet(key.startsWith('0x') ? key : `0x${key}`);
}

/** Pull progress is printed at most this often (and when the pull is done). */
const PULL_PRINT_MS = 2000;

const mb = (bytes: number) => (bytes / 1e6).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** "Pulling the image on the provider: 1,234.5 of 4,800.0 MB (25%) · 38.2 MB/s · about 93 s left". */
export function pullProgressLine(e: Extract<BuyerEvent, { type: 'pull-progress' }>): string {
  const of = e.totalBytes ? `${mb(e.bytes)} of ${mb(e.totalBytes)} MB (${Math.floor((Math.min(e.bytes, e.totalBytes) / e.totalBytes) * 100)}%)` : `${mb(e.bytes)} MB`;
  const rate = e.bytesPerSecond ? ` · ${mb(e.bytesPerSecond)} MB/s` : '';
  const left = e.totalBytes && e.bytesPerSecond ? Math.max(0, e.totalBytes - e.bytes) / e.bytesPerSecond : null;
  return `Job ${e.jobId}: pulling the image on the provider (not billed): ${of}${rate}${left === null ? '' : ` · about ${Math.ceil(left)} s left`}`;
}

/** The job request from the flags; zod has the last word on every limit. */
export function jobFromArgs(args: ParsedArgs): { job: JobRequestInput; outputDir: string | null } {
  const image = option(args, 'image');
  if (!image) throw new AppError('usage', 'Give --image sha256:… (a local image id) or repo@sha256:… (pinned by digest).');
  if (args.rest.length === 0) throw new AppError('usage', 'Give the command after --, for example: -- /render --out /output/frame.png');
  const cpus = numberOption(args, 'cpus');
  const job: JobRequestInput = {
    image,
    command: args.rest,
    gpus: intOption(args, 'gpus', 0),
    cpus,
    memoryMiB: intOption(args, 'memory', 1),
    maxDurationSeconds: intOption(args, 'max-duration', 1),
    reportIntervalSeconds: intOption(args, 'report-interval', 1),
    pricePerHour: parseTokenAmount(option(args, 'price-per-hour') ?? DEFAULT_PRICE_PER_HOUR, TOKEN_DECIMALS, '--price-per-hour').toString(),
    imageSizeBytes: intOption(args, 'image-size', 0),
    maxPullSeconds: intOption(args, 'max-pull-seconds', 1),
  };
  for (const key of Object.keys(job) as (keyof JobRequestInput)[]) if (job[key] === undefined) delete job[key];
  const parsed = jobRequestSchema.safeParse(job);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag = { memoryMiB: '--memory', maxDurationSeconds: '--max-duration', reportIntervalSeconds: '--report-interval', gpus: '--gpus', cpus: '--cpus', image: '--image', command: 'the command', imageSizeBytes: '--image-size', maxPullSeconds: '--max-pull-seconds' }[String(issue?.path[0]) as 'gpus'];
    throw new AppError('usage', `${flag ?? String(issue?.path.join('.') || 'the job')}: ${issue?.message ?? 'invalid'}`);
  }
  return { job, outputDir: option(args, 'output-dir') ?? null };
}

export const buyerSubmitCommand: CliCommand = {
  name: 'buyer submit',
  summary: 'Submit a job to a market as a buyer, pay it by vouchers as it runs, print the result.',
  usage:
    'buyer submit --market URL --key-file FILE --image sha256:… [--gpus N] [--cpus N] [--memory MiB] [--max-duration S] [--price-per-hour TOKENS] [--report-interval S] [--max-attempts N] [--image-size BYTES] [--max-pull-seconds N] [--output-dir DIR] [--json] -- COMMAND…\n\n' +
    'TOKENS is for the whole job per hour (default 1). --gpus 0 is a CPU-only job. Without --output-dir the job asks for no output.\n' +
    `--max-attempts: how many providers may run the job in turn when one is preempted (1-${MAX_ATTEMPTS}; the market's default is 3).\n` +
    "--image-size: the image's compressed size in bytes (its layers and config: the sum of the manifest's sizes); providers that hold the image are offered the job first, then those with room for it, and a provider whose manifest says otherwise declines. --max-pull-seconds: the longest the image's pull may take; a provider whose download rate says longer declines. Pull time is never billed. Both need a market of protocol revision 2; an older one gets the job without them (said once).\n" +
    'Prints { "jobId", "state", "reason", "provider", "usageSeconds", "paid", "attempts" } (paid: base units, over all attempts; attempts: each provider\'s usageSeconds, paid and state) and exits 0 only if the job succeeded. Ctrl-C cancels the job.',
  async run(args, io) {
    const market = option(args, 'market');
    if (!market) throw new AppError('usage', 'Give --market URL (for example ws://127.0.0.1:8600, printed by `offshift market serve`).');
    const { job, outputDir } = jobFromArgs(args);
    const maxAttempts = intOption(args, 'max-attempts', 1);
    if (maxAttempts !== undefined && maxAttempts > MAX_ATTEMPTS) throw new AppError('usage', `--max-attempts is at most ${MAX_ATTEMPTS}.`);
    const signer = readKey(args);
    const { submitJob } = await import('../../../buyer/index.js');
    const say = (line: string) => io.stderr(line + '\n');
    const tok = (units: string) => `${formatTokens(BigInt(units), TOKEN_DECIMALS)} tokens`;
    const pullPrinted = new Map<string, number>();
    const abort = new AbortController();
    const onSignal = () => {
      if (abort.signal.aborted) return;
      say('Cancelling the job… (it is paid up to where it stopped)');
      abort.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const result = await submitJob({
        market,
        signer,
        agent: 'offshift-buyer-cli',
        job,
        outputDir,
        maxAttempts,
        signal: abort.signal,
        onEvent: (e) => {
          switch (e.type) {
            case 'submitted':
              return say(`Submitted job ${e.jobId} as ${signer.address}.`);
            case 'update':
              return say(`Job ${e.jobId}: ${e.state}${e.provider ? ` on ${e.provider}` : ''} (${e.reason}${e.detail ? `: ${e.detail}` : ''})`);
            case 'attempt-ended':
              return say(`Attempt ${e.attempt} on ${e.provider} ended ${e.state} after ${e.usageSeconds} s (paid ${tok(e.paid)}); placing the job again: attempt ${e.next} of ${e.maxAttempts}.`);
            case 'usage':
              if (e.paid && e.problem) return say(`Usage report ${e.report.seq} ${e.problem}.`);
              return say(e.paid ? `Usage ${e.report.usageSeconds} s, ${tok(e.report.amountDue)} due: paid by voucher.` : `Usage report ${e.report.seq} not paid: ${e.problem}`);
            case 'output':
              return say(`Output ${e.path}: ${e.bytes} bytes → ${e.file}`);
            case 'output-refused':
              return say(`Output ${e.path} refused: ${e.reason}`);
            case 'market-error':
              return say(`Market: ${e.code}: ${e.message}`);
            case 'disconnected':
              return say(`Lost the market (${e.reason}); reconnecting…`);
            case 'reconnected':
              return say('Reconnected to the market.');
            case 'pull-progress': {
              const done = e.totalBytes !== null && e.bytes >= e.totalBytes;
              if (!done && Date.now() - (pullPrinted.get(e.jobId) ?? 0) < PULL_PRINT_MS) return;
              pullPrinted.set(e.jobId, Date.now());
              return say(pullProgressLine(e));
            }
            case 'fields-dropped':
              return say(e.message);
            case 'voucher':
              return;
          }
        },
      });
      printJson(io, { jobId: result.jobId, state: result.state, reason: result.reason, provider: result.provider, usageSeconds: result.usageSeconds, paid: result.paid, attempts: result.attempts });
      if (!args.flags.has('json')) say(`Job ${result.jobId} ${result.state}; paid ${tok(result.paid)} for ${result.usageSeconds} s${result.attempts.length > 1 ? ` over ${result.attempts.length} attempts` : ''}.`);
      return result.state === 'succeeded' ? 0 : 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

export const buyerCommands: CliCommand[] = [buyerSubmitCommand];
