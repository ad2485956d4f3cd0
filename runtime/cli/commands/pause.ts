import { AppError } from '../../errors.js';
import { numberOption, option } from '../args.js';
import type { CliCommand } from '../command.js';
import { snoozeLine, whereNote, withTarget } from './schedule-common.js';

export const pauseCommand: CliCommand = {
  name: 'pause',
  summary: 'Snooze: run no work for a while, until a time, or until `offshift resume`.',
  usage: 'pause [--for MINUTES | --until ISO8601] [--json]',
  async run(args, io) {
    const forMinutes = numberOption(args, 'for');
    const until = option(args, 'until');
    if (forMinutes !== undefined && until !== undefined) throw new AppError('usage', 'Give --for or --until, not both.');
    if (forMinutes !== undefined && forMinutes <= 0) throw new AppError('usage', '--for takes a number of minutes above 0.');
    if (until !== undefined && Number.isNaN(new Date(until).getTime())) throw new AppError('usage', `--until must be an ISO 8601 date and time, not "${until}".`);
    const input = { ...(forMinutes !== undefined ? { forMinutes } : {}), ...(until !== undefined ? { until: new Date(until).toISOString() } : {}) };
    const { view, where } = await withTarget(io, async (t) => ({
      view: t.kind === 'agent' ? await t.client.call('agent.pause', input) : t.service.pause(input),
      where: whereNote(t),
    }));
    io.stdout(args.flags.has('json') ? JSON.stringify(view.effective) + '\n' : `${snoozeLine(view)} ${where}\n`);
    return 0;
  },
};
