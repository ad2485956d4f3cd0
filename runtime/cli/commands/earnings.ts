/** `offshift earnings …`: the earnings summary, series and CSV export, from the ledger. */
import { AppError } from '../../errors.js';
import { formatTokens } from '../../ledger/tokens.js';
import { writeFileAtomic } from '../../storage/atomic-file.js';
import { numberOption, option } from '../args.js';
import type { CliCommand } from '../command.js';
import { printJson, withMoney } from './wallet-common.js';

export const earningsCommand: CliCommand = {
  name: 'earnings',
  summary: 'Earnings today, 7 days, 30 days and all time; pending, redeemable, redeemed, withdrawn.',
  usage: 'earnings [--tz ZONE] [--json]',
  async run(args, io) {
    return withMoney(io, async ({ earnings }) => {
      const s = earnings.summary(option(args, 'tz'));
      if (args.flags.has('json')) {
        printJson(io, s);
        return 0;
      }
      const t = (v: string) => `${formatTokens(BigInt(v), s.tokenDecimals)} ${s.tokenSymbol}`;
      io.stdout(
        [
          `Today:        ${t(s.today)}`,
          `Last 7 days:  ${t(s.last7Days)}`,
          `Last 30 days: ${t(s.last30Days)}`,
          `All time:     ${t(s.allTime)} over ${s.totals.jobs} job(s)`,
          `Pending: ${t(s.totals.pending)} · Redeemable: ${t(s.totals.redeemable)} · Redeemed: ${t(s.totals.redeemed)} · Expired: ${t(s.totals.expired)} · Withdrawn: ${t(s.totals.withdrawn)}`,
          `(days in ${s.timeZone})`,
        ].join('\n') + '\n',
      );
      return 0;
    });
  },
};

export const earningsSeriesCommand: CliCommand = {
  name: 'earnings series',
  summary: 'Earnings by day, week or month.',
  usage: 'earnings series [--unit day|week|month] [--days N | --from YYYY-MM-DD --to YYYY-MM-DD] [--tz ZONE] [--json]',
  async run(args, io) {
    const unit = option(args, 'unit') ?? 'day';
    if (unit !== 'day' && unit !== 'week' && unit !== 'month') throw new AppError('usage', '--unit is day, week or month.');
    return withMoney(io, async ({ earnings, wallet }) => {
      const r = earnings.series({ unit, from: option(args, 'from'), to: option(args, 'to'), days: numberOption(args, 'days'), timeZone: option(args, 'tz') });
      if (args.flags.has('json')) printJson(io, r);
      else {
        const { decimals, symbol } = wallet.tokenMeta();
        for (const p of r.points) io.stdout(`${p.period}  ${formatTokens(BigInt(p.earned), decimals).padStart(24)} ${symbol}  ${p.jobs} job(s)\n`);
      }
      return 0;
    });
  },
};

export const earningsExportCommand: CliCommand = {
  name: 'earnings export',
  summary: 'Export one CSV row a job (date, job, GPUs, duration, amount, voucher status, redeem transaction).',
  usage: 'earnings export [--out FILE] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--tz ZONE] [--json]   (stdout without --out)',
  async run(args, io) {
    return withMoney(io, async ({ earnings }) => {
      const r = earnings.exportCsv({ from: option(args, 'from'), to: option(args, 'to'), timeZone: option(args, 'tz') });
      const out = option(args, 'out');
      if (!out) {
        io.stdout(r.csv);
        return 0;
      }
      writeFileAtomic(out, r.csv, 0o644);
      if (args.flags.has('json')) printJson(io, { out, rows: r.rows });
      else io.stdout(`${r.rows} job(s) written to ${out}.\n`);
      return 0;
    });
  },
};

export const earningsCommands: CliCommand[] = [earningsCommand, earningsSeriesCommand, earningsExportCommand];
