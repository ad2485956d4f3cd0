/**
 * `offshift market config`: the agent's marketplace settings (settings.json's `market` section,
 * lockable by the admin policy). Told to the running agent when there is one (it reconnects at
 * once), else saved to the file for its next start. Prices are decimal token amounts.
 */
import { AppError } from '../../errors.js';
import { marketPatchSchema, type MarketPatch } from '../../market/settings.js';
import { checkMarketPatch } from '../../market/settings-check.js';
import { effectiveSection } from '../../settings/effective.js';
import { formatTokens } from '../../ledger/tokens.js';
import { numberOption, option } from '../args.js';
import type { CliCommand } from '../command.js';
import { printable } from '../printable.js';
import { withTarget, whereNote } from './schedule-common.js';
import { parseTokenAmount, printJson } from './wallet-common.js';

const DECIMALS = 18;

export const marketConfigCommand: CliCommand = {
  name: 'market config',
  summary: "Show or change this agent's marketplace settings (market URL, price floors, report interval).",
  usage:
    'market config [--url URL | --demo] [--min-price-per-gpu-hour TOKENS] [--min-price-per-job-hour TOKENS] [--report-interval-max S] [--off | --on] [--allow-insecure] [--json]',
  booleanFlags: ['off', 'on', 'demo', 'allow-insecure'],
  async run(args, io) {
    const patch: MarketPatch = {};
    const url = option(args, 'url');
    if (url !== undefined) patch.url = url;
    if (args.flags.has('demo')) patch.url = null;
    if (args.flags.has('off')) patch.enabled = false;
    if (args.flags.has('on') || url !== undefined || args.flags.has('demo')) patch.enabled = args.flags.has('off') ? false : true;
    if (args.flags.has('allow-insecure')) patch.allowInsecure = true;
    const perGpu = option(args, 'min-price-per-gpu-hour');
    if (perGpu !== undefined) patch.minPricePerGpuHour = parseTokenAmount(perGpu, DECIMALS, '--min-price-per-gpu-hour').toString();
    const perJob = option(args, 'min-price-per-job-hour');
    if (perJob !== undefined) patch.minPricePerJobHour = parseTokenAmount(perJob, DECIMALS, '--min-price-per-job-hour').toString();
    const interval = numberOption(args, 'report-interval-max');
    if (interval !== undefined) patch.reportIntervalMaxSeconds = interval;
    const parsed = marketPatchSchema.safeParse(patch);
    if (!parsed.success) throw new AppError('usage', `Invalid setting: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);

    return withTarget(io, async (target) => {
      let settings;
      let locked: string[];
      let note = '';
      if (target.kind === 'agent') {
        const status = await target.client.call('market.settings', parsed.data);
        settings = status.settings;
        locked = status.locked;
        note = `Marketplace: ${status.state} — ${printable(status.reason)}`;
      } else {
        const store = target.service.settings;
        const policy = target.service.policy.current;
        if (Object.keys(parsed.data).length > 0) {
          checkMarketPatch(parsed.data, effectiveSection('market', store.section('market').patch, policy), policy);
          store.update('market', parsed.data);
        }
        const e = effectiveSection('market', store.section('market').patch, policy);
        if (!e.ok) throw new AppError('settings-invalid', e.message);
        settings = e.value;
        locked = e.locked;
      }
      if (args.flags.has('json')) {
        printJson(io, { settings, locked });
        return 0;
      }
      const lock = (k: string) => (locked.includes(`market.${k}`) ? ' (set by your administrator)' : '');
      const lines = [
        `Market:                 ${!settings.enabled ? 'off' : settings.url ?? (settings.demo ? 'the demo network on this computer (test tokens)' : 'none')}${lock('url')}`,
        `Min price per GPU-hour: ${formatTokens(BigInt(settings.minPricePerGpuHour), DECIMALS)} tokens${lock('minPricePerGpuHour')}`,
        `Min price per job-hour: ${formatTokens(BigInt(settings.minPricePerJobHour), DECIMALS)} tokens${lock('minPricePerJobHour')}`,
        `Report interval, max:   ${settings.reportIntervalMaxSeconds} s${lock('reportIntervalMaxSeconds')}`,
        `Longest job accepted:   ${settings.maxJobSeconds} s`,
        `Disconnect grace:       ${settings.disconnectGraceSeconds} s`,
      ];
      if (Object.keys(parsed.data).length > 0) lines.push(`Saved ${whereNote(target)}.`);
      if (note) lines.push(note);
      io.stdout(lines.join('\n') + '\n');
      return 0;
    });
  },
};
