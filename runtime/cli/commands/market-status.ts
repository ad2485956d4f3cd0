/**
 * `offshift market status`: the running agent's link to its market, as the Marketplace page shows
 * it: connected or not and why (with what to do), the market, the address it signs in as, the
 * marketplace jobs running and the latest offers with their decisions. The link lives in the
 * agent: with none running, it says so and which market one would join.
 */
import { formatTokens } from '../../ledger/tokens.js';
import type { MarketStatus } from '../../market/schema.js';
import type { MarketSettings } from '../../market/settings.js';
import { effectiveSection } from '../../settings/effective.js';
import { AppError } from '../../errors.js';
import { viaAgentOrLocal } from '../agent-or-local.js';
import type { CliCommand } from '../command.js';
import { printable } from '../printable.js';
import { formatTable } from '../table.js';
import { printJson } from './wallet-common.js';

const OFFERS_SHOWN = 5;

export const marketStatusCommand: CliCommand = {
  name: 'market status',
  summary: "The running agent's marketplace link: connected or not and why, the market, the jobs running and the latest offers.",
  usage: 'market status [--json]',
  async run(args, io) {
    const json = args.flags.has('json');
    return viaAgentOrLocal(
      io,
      async ({ client }) => {
        const status = await client.call('market.status', {});
        if (json) printJson(io, { agent: true, ...status });
        else io.stdout(describeStatus(status));
        return 0;
      },
      async (local) => {
        const schedule = local.schedule();
        const section = schedule.settings.section('market');
        const e = effectiveSection('market', section.patch, schedule.policy.current);
        if (!e.ok) throw new AppError('settings-invalid', e.message);
        const problem = section.problem ? `Your settings file ${schedule.settings.file} is invalid (${section.problem}): until it is fixed (\`offshift market config\` rewrites it, keeping the old one beside it) the defaults apply.` : null;
        if (json) printJson(io, { agent: false, settings: e.value, problem });
        else io.stdout(`No agent is running here, so nothing is connected. Start one with \`offshift agent\` (or open the desktop app): it will join ${printable(marketName(e.value))}.\n${problem ? `${printable(problem)}\n` : ''}`);
        return 0;
      },
    );
  },
};

function marketName(s: Pick<MarketSettings, 'enabled' | 'url'>): string {
  if (!s.enabled) return 'no market (the marketplace is off: `offshift market config --on`)';
  return s.url ?? 'the demo network on this computer (test tokens)';
}

/**
 * The status in lines a person reads: the link first, then the work. Every text in it may come
 * from the market (a close reason, a refusal) and is printed as text, never as terminal control.
 */
export function describeStatus(s: MarketStatus, now = Date.now()): string {
  const p = printable;
  const money = (units: string) => `${formatTokens(BigInt(units), s.tokenDecimals)} ${p(s.tokenSymbol)}`;
  const lines = [
    `Market:   ${s.network === 'off' ? 'off' : s.network === 'demo' ? `the demo network on this computer (test tokens)${s.url ? `, ${p(s.url)}` : ''}` : p(s.url ?? '')}`,
    `State:    ${s.state}, since ${new Date(s.since).toLocaleString()}`,
    `Why:      ${p(s.reason)}`,
  ];
  if (s.nextRetryAt !== null) lines.push(`Retry:    in ${Math.max(0, Math.round((s.nextRetryAt - now) / 1000))} s`);
  if (s.address) lines.push(`Signs in: ${s.address}`);
  if (s.demoJobs && !s.demoJobs.gpu) lines.push(`Demo:     CPU jobs only: ${p(s.demoJobs.reason)}`);
  lines.push('');
  if (s.jobs.length === 0) lines.push('Running:  no marketplace job.');
  else {
    lines.push(`Running:  ${s.jobs.length} marketplace job(s)`);
    lines.push(formatTable(['JOB', 'STATE', 'PRICE/H', 'RUN', 'DUE', 'PAID'], s.jobs.map((j) => [p(j.jobId), p(j.state), money(j.pricePerHour), `${j.usageSeconds} s`, money(j.amountDue), money(j.paidUpTo)])).trimEnd());
  }
  if (s.offers.length > 0) {
    lines.push('', `Latest offers (${Math.min(OFFERS_SHOWN, s.offers.length)} of ${s.offers.length} kept):`);
    const shown = s.offers.slice(0, OFFERS_SHOWN);
    lines.push(formatTable(['WHEN', 'JOB', 'GPUS', 'PRICE/H', 'DECISION'], shown.map((o) => [new Date(o.at).toLocaleTimeString(), p(o.jobId), String(o.gpus), money(o.pricePerHour), p(o.detail)])).trimEnd());
  }
  return lines.join('\n') + '\n';
}
