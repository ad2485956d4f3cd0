/** `offshift schedule decide` and `offshift schedule show`. */
import { AppError } from '../../errors.js';
import { loadPolicy } from '../../policy/load.js';
import { noPolicy, type LoadedPolicy } from '../../policy/schema.js';
import { decide } from '../../schedule/decide.js';
import { isValidTimeZone, type ScheduleView } from '../../schedule/schema.js';
import type { GpuProcessSignal, Signals } from '../../schedule/signals.js';
import { systemTimeZone } from '../../schedule/windows.js';
import { effectiveSection } from '../../settings/effective.js';
import { parseSettings, type SectionState } from '../../settings/store.js';
import { numberOption, option } from '../args.js';
import type { CliCommand } from '../command.js';
import { readSmallFile } from '../../storage/small-file.js';
import { snoozeLine, withTarget } from './schedule-common.js';

function list(raw: string | undefined): string[] {
  return raw === undefined ? [] : raw.split(',').map((s) => s.trim()).filter(Boolean);
}

export function parseGpuProcesses(raw: string | undefined): GpuProcessSignal[] {
  return list(raw).map((item) => {
    const colon = item.lastIndexOf(':');
    const mib = colon === -1 ? NaN : Number(item.slice(colon + 1));
    if (colon <= 0 || !Number.isFinite(mib) || mib < 0) {
      throw new AppError('usage', `--gpu-processes takes NAME:MiB items separated by commas (e.g. blender:2048), not "${item}".`);
    }
    return { name: item.slice(0, colon), usedMemoryMiB: mib };
  });
}

export const scheduleDecideCommand: CliCommand = {
  name: 'schedule decide',
  summary: 'Print the availability decision for a settings file and given signals (no agent needed).',
  usage:
    'schedule decide --settings FILE [--policy FILE] --at ISO8601 [--tz ZONE] [--idle-seconds N] [--processes NAME,…] ' +
    '[--gpu-processes NAME:MiB,…] [--gpu-temp C] [--paused-for-heat] [--on-battery]\n\n' +
    'Prints { "run": true|false, "reason": "…", "detail": "…" }. Without --idle-seconds there is no idle source (idle counts as satisfied).',
  booleanFlags: ['paused-for-heat', 'on-battery'],
  async run(args, io) {
    const settingsFile = option(args, 'settings');
    if (!settingsFile) throw new AppError('usage', '--settings FILE is required (a settings file: { "schedule": { … } }).');
    const atRaw = option(args, 'at');
    if (!atRaw) throw new AppError('usage', '--at ISO8601 is required (e.g. 2026-11-23T22:30:00+01:00).');
    const at = new Date(atRaw);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(atRaw) || Number.isNaN(at.getTime())) throw new AppError('usage', `--at must be an ISO 8601 date and time, not "${atRaw}".`);

    let text: string;
    try {
      text = readSmallFile(settingsFile, 1024 * 1024);
    } catch (error) {
      throw new AppError('usage', `Cannot read the settings file ${settingsFile}: ${(error as Error).message}.`);
    }
    const parsed = parseSettings(text);
    const section = parsed.sections.get('schedule') as SectionState<'schedule'>;
    if (section.problem) throw new AppError('invalid-input', `Invalid settings in ${settingsFile}: ${section.problem}.`);

    let policy: LoadedPolicy = noPolicy;
    const policyFile = option(args, 'policy');
    if (policyFile) {
      policy = loadPolicy(policyFile);
      if (policy.state === 'none') throw new AppError('usage', `The policy file ${policyFile} does not exist.`);
    }
    let patch = section.patch;
    const tz = option(args, 'tz');
    if (tz !== undefined) {
      if (!isValidTimeZone(tz)) throw new AppError('usage', `--tz must be an IANA time zone such as Europe/Berlin, not "${tz}".`);
      patch = { ...patch, timezone: tz };
    }
    const effective = effectiveSection('schedule', patch, policy);
    if (!effective.ok && policy.state !== 'ok') throw new AppError('invalid-input', `Invalid settings in ${settingsFile}: ${effective.message}.`);
    if (effective.ok && !effective.userApplied) {
      io.stderr(`note: the settings in ${settingsFile} clash with the policy's mandatory values and are set aside, as the agent does.\n`);
    }

    const idleSeconds = numberOption(args, 'idle-seconds');
    if (idleSeconds !== undefined && idleSeconds < 0) throw new AppError('usage', '--idle-seconds must be 0 or more.');
    const signals: Signals = {
      idleSeconds: idleSeconds ?? null,
      processes: list(option(args, 'processes')),
      gpuProcesses: parseGpuProcesses(option(args, 'gpu-processes')),
      gpuTemperatureC: numberOption(args, 'gpu-temp') ?? null,
      pausedForHeat: args.flags.has('paused-for-heat'),
      onBattery: args.flags.has('on-battery'),
      systemTimeZone: systemTimeZone(),
    };
    // --tz wins over a mandatory zone too: it is a what-if tool.
    const decision = decide(at, signals, patch, tz !== undefined && policy.state === 'ok' ? withZone(policy, tz) : policy);
    io.stdout(JSON.stringify(decision) + '\n');
    return 0;
  },
};

function withZone(policy: Extract<LoadedPolicy, { state: 'ok' }>, tz: string): LoadedPolicy {
  const schedule = policy.mandatory.schedule;
  if (!schedule || schedule.timezone === undefined) return policy;
  return { ...policy, mandatory: { ...policy.mandatory, schedule: { ...schedule, timezone: tz } } };
}

export function formatScheduleView(view: ScheduleView): string {
  const s = view.effective;
  const lock = (path: string) => (view.locked.some((l) => l === `schedule.${path}` || l.startsWith(`schedule.${path}.`)) ? '  [locked by administrator]' : '');
  const lines = [
    `Mode:               ${s.mode}${lock('mode')}`,
    `Time zone:          ${view.timezone}${s.timezone === null ? ' (the system\'s)' : ''}${lock('timezone')}`,
    `Windows:            ${s.windows.length === 0 ? 'any time' : s.windows.map((w) => `${w.days.join(',')} ${w.start}-${w.end}`).join('; ')}${lock('windows')}`,
    `Idle:               ${s.idle.required ? `required, ${s.idle.minutes} min` : 'not required'}${lock('idle')}`,
    `Exclusive apps:     ${s.exclusiveApps.length === 0 ? 'none' : s.exclusiveApps.join(', ')}${lock('exclusiveApps')}`,
    `Foreign GPU use:    ${s.pauseOnForeignGpuUse ? `pause at ${s.foreignGpuMinMiB} MiB` : 'ignored'}${lock('pauseOnForeignGpuUse') || lock('foreignGpuMinMiB')}`,
    `Thermal:            pause at ${s.thermal.pauseAtC} °C, resume below ${s.thermal.resumeBelowC} °C${lock('thermal')}`,
    `On battery:         ${s.pauseOnBattery ? 'pause' : 'keep running'}${lock('pauseOnBattery')}`,
    `When you return:    ${s.onUserReturn === 'stop' ? `stop jobs (${s.stopGraceSeconds} s grace)` : `freeze jobs, stop after ${s.pauseGraceMinutes} min`}${lock('onUserReturn')}`,
    `Snooze:             ${snoozeLine(view)}`,
    `Policy:             ${view.policy.message}`,
  ];
  if (view.decision) lines.push(`Now:                ${view.decision.detail}`);
  for (const note of view.notes) lines.push(`Note:               ${note}`);
  return lines.join('\n') + '\n';
}

export const scheduleShowCommand: CliCommand = {
  name: 'schedule show',
  summary: 'Show the effective availability settings and which are locked by an administrator.',
  usage: 'schedule show [--json]',
  async run(args, io) {
    const view = await withTarget(io, async (t) => (t.kind === 'agent' ? t.client.call('schedule.get') : t.service.view()));
    io.stdout(args.flags.has('json') ? JSON.stringify(view, null, 2) + '\n' : formatScheduleView(view));
    return 0;
  },
};
