/**
 * `offshift market serve|jobs|providers`: the reference market (market/) from a shell, and what
 * a market sees. (`offshift market config`, the agent's own market settings, lives in
 * market-config.ts.)
 */
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { readDevnet } from '../../demo/devnet.js';
import { formatTokens } from '../../ledger/tokens.js';
import { cliLogger } from '../logger.js';
import { marketJobViewSchema, marketProviderViewSchema, PATHS } from '../../../protocol/index.js';
import { resolveHome } from '../../storage/home.js';
import { addressSchema } from '../../wallet/schema.js';
import { numberOption, option, type ParsedArgs } from '../args.js';
import type { CliCommand } from '../command.js';
import { formatTable } from '../table.js';
import { printJson } from './wallet-common.js';

const TOKEN_DECIMALS = 18;

function portOption(args: ParsedArgs): number {
  const port = numberOption(args, 'port') ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new AppError('usage', '--port must be a port number (0-65535; 0 picks a free one).');
  return port;
}

/** The chain the market names in its offers: --chain-id and --escrow, else the local devnet's. */
function chainOf(args: ParsedArgs, env: NodeJS.ProcessEnv): { chainId: number; escrow: string } {
  const chainIdText = option(args, 'chain-id');
  const escrow = option(args, 'escrow');
  if (chainIdText !== undefined || escrow !== undefined) {
    const chainId = Number(chainIdText);
    if (chainIdText === undefined || !Number.isSafeInteger(chainId) || chainId <= 0) throw new AppError('usage', '--chain-id must be a positive integer (give it with --escrow).');
    if (!escrow || !addressSchema.safeParse(escrow).success) throw new AppError('usage', '--escrow must be the escrow contract address (0x and 40 hex digits), given with --chain-id.');
    return { chainId, escrow };
  }
  const devnet = readDevnet(resolveHome(env));
  if (!devnet) throw new AppError('usage', 'Which chain? Give --chain-id N --escrow ADDRESS, or start the local chain first with `offshift devnet up`.');
  return { chainId: devnet.chainId, escrow: devnet.escrow };
}

export const marketServeCommand: CliCommand = {
  name: 'market serve',
  summary: 'Run the reference market on 127.0.0.1 (prints its URL as JSON, runs until stopped).',
  usage:
    'market serve [--port N] [--db FILE] [--log-format json|pretty] [--chain-id N --escrow ADDRESS] [--offer-ttl MS] [--queue-timeout S] [--public-url URL]\n\nWithout --chain-id/--escrow the local chain from `offshift devnet up` is used. Without --db the jobs are kept in memory only.\n' +
    '--queue-timeout: how long a job waits for a provider (after its submission, or after a preemption) before it ends expired (default 3600).\n' +
    '--public-url: the address peers dial (wss://market.example.com behind a TLS proxy), which every sign-in names (default ws://127.0.0.1:<port>).',
  async run(args, io) {
    const port = portOption(args);
    const { chainId, escrow } = chainOf(args, io.env);
    const offerTtlMs = numberOption(args, 'offer-ttl');
    if (offerTtlMs !== undefined && (!Number.isInteger(offerTtlMs) || offerTtlMs < 100 || offerTtlMs > 600_000)) throw new AppError('usage', '--offer-ttl is milliseconds, 100 to 600000.');
    const queueTimeout = numberOption(args, 'queue-timeout');
    if (queueTimeout !== undefined && (!Number.isInteger(queueTimeout) || queueTimeout < 1 || queueTimeout > 30 * 86_400)) throw new AppError('usage', '--queue-timeout is seconds, 1 to 2592000 (30 days).');
    const { startMarket } = await import('../../../market/server.js');
    const log = cliLogger(io, 'info', args);
    let market;
    try {
      market = await startMarket({ port, dbFile: option(args, 'db') ?? null, chainId, escrow, log, offerTtlMs, queueTimeoutMs: queueTimeout === undefined ? undefined : queueTimeout * 1000, publicUrl: option(args, 'public-url') ?? null });
    } catch (error) {
      if (/public URL/.test((error as Error).message)) throw new AppError('usage', `--public-url: ${(error as Error).message}`);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new AppError('port-in-use', `Port ${port} is taken: choose another with --port, or 0 for a free one.`);
      throw error;
    }
    io.stdout(JSON.stringify({ url: market.url }) + '\n');
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await market.close();
    return 0;
  },
};

/** ws://host:port → http://host:port (wss → https). */
export function httpBase(marketUrl: string): string {
  let url: URL;
  try {
    url = new URL(marketUrl);
  } catch {
    throw new AppError('usage', `--market must be the market's URL, such as ws://127.0.0.1:8600, not "${marketUrl}".`);
  }
  const protocol = url.protocol === 'ws:' ? 'http:' : url.protocol === 'wss:' ? 'https:' : null;
  if (!protocol) throw new AppError('usage', `--market must start with ws:// or wss://, not ${url.protocol}//.`);
  return `${protocol}//${url.host}`;
}

async function readView<T>(args: ParsedArgs, path: string, schema: z.ZodType<T>): Promise<T[]> {
  const market = option(args, 'market');
  if (!market) throw new AppError('usage', 'Give --market URL (for example ws://127.0.0.1:8600, printed by `offshift market serve`).');
  const url = httpBase(market) + path;
  let body: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new AppError('market-error', `The market answered ${res.status} at ${url}.`);
    body = await res.json();
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('market-unreachable', `Cannot read ${url}: ${(error as Error).message}. Is the market running?`);
  }
  const parsed = z.array(schema).safeParse(body);
  if (!parsed.success) throw new AppError('market-error', `The market's answer at ${url} is not what this Offshift understands: ${z.prettifyError(parsed.error).slice(0, 300)}`);
  return parsed.data;
}

const short = (a: string | null) => (a ? `${a.slice(0, 6)}…${a.slice(-4)}` : '-');
const tokens = (units: string) => formatTokens(BigInt(units), TOKEN_DECIMALS);

export const marketJobsCommand: CliCommand = {
  name: 'market jobs',
  summary: "A market's jobs: state, buyer, provider, price, time run and paid.",
  usage: 'market jobs --market URL [--json]',
  async run(args, io) {
    const jobs = await readView(args, PATHS.jobs, marketJobViewSchema);
    if (args.flags.has('json')) printJson(io, jobs);
    else if (jobs.length === 0) io.stdout('The market has no jobs.\n');
    else
      io.stdout(
        formatTable(
          ['JOB', 'STATE', 'REASON', 'BUYER', 'PROVIDER', 'GPUS', 'PRICE/H', 'RUN (S)', 'PAID', 'OFFERS', 'ATTEMPTS'],
          jobs.map((j) => [j.jobId, j.state, j.reason, short(j.buyer), short(j.provider), String(j.gpus), tokens(j.pricePerHour), String(j.usageSeconds), tokens(j.paid), String(j.offers), j.attempts === undefined ? '-' : `${j.attempts}/${j.maxAttempts ?? '?'}`]),
        ),
      );
    return 0;
  },
};

export const marketProvidersCommand: CliCommand = {
  name: 'market providers',
  summary: 'The providers a market knows: connected or not, GPUs, availability, prices, jobs.',
  usage: 'market providers --market URL [--json]',
  async run(args, io) {
    const providers = await readView(args, PATHS.providers, marketProviderViewSchema);
    if (args.flags.has('json')) printJson(io, providers);
    else if (providers.length === 0) io.stdout('No provider is connected to the market.\n');
    else
      io.stdout(
        formatTable(
          ['PROVIDER', 'CONNECTED', 'GPUS', 'FREE', 'SCORE', 'STATE', 'MIN/GPU-H', 'MIN/JOB-H', 'MAX JOB (S)', 'JOBS'],
          providers.map((p) => [
            p.address,
            p.connected ? 'yes' : 'no',
            p.ad ? (p.ad.gpus.length ? `${p.ad.gpus.length}× ${p.ad.gpus[0]!.model}` : 'none (CPU)') : '-',
            p.ad ? String(p.ad.freeGpus) : '-',
            p.ad?.score === null || !p.ad ? '-' : String(p.ad.score),
            p.ad ? p.ad.availability.state : '-',
            p.ad ? tokens(p.ad.prices.minPricePerGpuHour) : '-',
            p.ad ? tokens(p.ad.prices.minPricePerJobHour) : '-',
            p.ad ? String(p.ad.maxJobSeconds) : '-',
            String(p.runningJobs.length),
          ]),
        ),
      );
    return 0;
  },
};

export const marketCommands: CliCommand[] = [marketServeCommand, marketJobsCommand, marketProvidersCommand];
