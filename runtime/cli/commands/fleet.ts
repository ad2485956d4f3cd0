/** `offshift fleet status`: every machine a studio's Prometheus scrapes, read through its HTTP API. */
import { AppError } from '../../errors.js';
import { fleetStatus } from '../../metrics/fleet.js';
import { option } from '../args.js';
import type { CliCommand } from '../command.js';
import { formatTable } from '../table.js';

export const fleetStatusCommand: CliCommand = {
  name: 'fleet status',
  summary: "Every machine in a studio's Prometheus: state and reason, GPUs, earnings today, policy version, last scrape.",
  usage: 'fleet status --prometheus URL [--json]',
  async run(args, io) {
    const url = option(args, 'prometheus');
    if (!url) throw new AppError('usage', 'Give the Prometheus that scrapes your agents: --prometheus http://prometheus.studio.lan:9090');
    const machines = await fleetStatus(url);
    if (args.flags.has('json')) {
      io.stdout(JSON.stringify({ machines }, null, 2) + '\n');
      return 0;
    }
    if (machines.length === 0) {
      io.stdout(`No Offshift agent in ${url} over the last day: turn metrics on with \`offshift metrics config --listen HOST:PORT\` and add its scrape config.\n`);
      return 0;
    }
    const rows = machines.map((m) => [
      m.hostname ?? m.instance,
      m.instance,
      m.up ? `${m.state ?? '?'} (${m.reason ?? '?'})` : 'down',
      m.gpus === null ? '-' : String(m.gpus),
      m.earningsTodayTokens === null ? '-' : m.earningsTodayTokens.toFixed(4),
      m.policyVersion ? m.policyVersion : (m.policySource ?? '-'),
      m.lastScrape ?? '-',
    ]);
    io.stdout(formatTable(['Machine', 'Instance', 'State', 'GPUs', 'Earned today', 'Policy', 'Last scrape'], rows) + '\n');
    return 0;
  },
};

export const fleetCommands: CliCommand[] = [fleetStatusCommand];
