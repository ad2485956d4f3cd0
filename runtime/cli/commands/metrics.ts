/**
 * `offshift metrics config`: where this agent serves Prometheus metrics (off by default), its
 * token file and a scrape config to paste. Told to the running agent when there is one (the
 * listener moves at once), else saved to the settings file for its next start.
 */
import path from 'node:path';
import { AppError } from '../../errors.js';
import { metricsPatchSchema, type MetricsPatch, type MetricsView } from '../../metrics/schema.js';
import { tokenPath } from '../../metrics/token.js';
import { checkSectionPatch } from '../../settings/check-patch.js';
import { effectiveSection } from '../../settings/effective.js';
import { option } from '../args.js';
import type { CliCommand } from '../command.js';
import { withTarget, whereNote } from './schedule-common.js';

export const metricsConfigCommand: CliCommand = {
  name: 'metrics config',
  summary: 'Show or change where this agent serves Prometheus metrics (off by default), with a scrape config to paste.',
  usage: 'metrics config [--listen HOST:PORT] [--textfile FILE] [--dcgm-compat on|off] [--off] [--json]',
  booleanFlags: ['off'],
  async run(args, io) {
    const patch: MetricsPatch = {};
    const listen = option(args, 'listen');
    if (listen !== undefined) patch.listen = listen;
    const textfile = option(args, 'textfile');
    if (textfile !== undefined) patch.textfile = textfile;
    const dcgm = option(args, 'dcgm-compat');
    if (dcgm !== undefined) {
      if (dcgm !== 'on' && dcgm !== 'off') throw new AppError('usage', `--dcgm-compat is on or off, not "${dcgm}".`);
      patch.dcgmCompat = dcgm === 'on';
    }
    if (args.flags.has('off')) Object.assign(patch, { listen: null, textfile: null });
    const parsed = metricsPatchSchema.safeParse(patch);
    if (!parsed.success) throw new AppError('usage', `Invalid setting: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const changing = Object.keys(parsed.data).length > 0;

    return withTarget(io, async (target) => {
      let view: MetricsView;
      if (target.kind === 'agent') view = await target.client.call('metrics.config', parsed.data);
      else {
        const store = target.service.settings;
        const policy = target.service.policy.current;
        const before = effectiveSection('metrics', store.section('metrics').patch, policy);
        if (changing) {
          if (!before.ok) throw new AppError('settings-invalid', before.message);
          checkSectionPatch('metrics', parsed.data, before.value, before, policy);
          store.update('metrics', parsed.data);
        }
        const e = effectiveSection('metrics', store.section('metrics').patch, policy);
        if (!e.ok) throw new AppError('settings-invalid', e.message);
        view = { effective: e.value, locked: e.locked, url: null, tokenFile: tokenPath(path.dirname(store.file)), problem: null, scrapeConfig: null };
      }
      if (args.flags.has('json')) {
        io.stdout(JSON.stringify(view, null, 2) + '\n');
        return 0;
      }
      const lock = (k: string) => (view.locked.includes(`metrics.${k}`) ? ' (set by your administrator)' : '');
      const s = view.effective;
      const lines = [
        `Listener:     ${s.listen ? (view.url ?? `${s.listen} (when the agent runs)`) : 'off'}${lock('listen')}`,
        `Token file:   ${view.tokenFile} (send it as Authorization: Bearer; made when the listener is first turned on, mode 0600)`,
        `Textfile:     ${s.textfile ?? 'off'}${lock('textfile')}`,
        `DCGM series:  ${s.dcgmCompat ? 'on' : 'off'}${lock('dcgmCompat')}`,
      ];
      if (view.problem) lines.push(`Problem:      ${view.problem}`);
      if (changing) lines.push(`Saved ${whereNote(target)}.`);
      if (view.scrapeConfig) lines.push('', 'Prometheus scrape config (prometheus.yml):', '', view.scrapeConfig);
      else if (s.listen === null) lines.push('', 'Turn the listener on with --listen HOST:PORT (0.0.0.0:9464 to be scraped from the LAN) for a scrape config.');
      io.stdout(lines.join('\n') + '\n');
      return 0;
    });
  },
};

export const metricsCommands: CliCommand[] = [metricsConfigCommand];
