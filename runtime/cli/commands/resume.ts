import type { CliCommand } from '../command.js';
import { whereNote, withTarget } from './schedule-common.js';

export const resumeCommand: CliCommand = {
  name: 'resume',
  summary: 'End a snooze: work may run again when the schedule allows.',
  usage: 'resume [--json]',
  async run(args, io) {
    const { view, where } = await withTarget(io, async (t) => ({
      view: t.kind === 'agent' ? await t.client.call('agent.resume') : t.service.resume(),
      where: whereNote(t),
    }));
    io.stdout(args.flags.has('json') ? JSON.stringify(view.effective) + '\n' : `Resumed: not snoozed. ${where}\n${view.decision ? view.decision.detail + '\n' : ''}`);
    return 0;
  },
};
