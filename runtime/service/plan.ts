/**
 * What `offshift service install|uninstall` does on Linux, as a list of steps built by pure
 * functions (so the plan is a unit test, and `--dry-run` prints it), run by service/run-plan.ts.
 */
import { SERVICE_NAME, SYSTEMD_UNIT_PATH, type ServiceConfig } from './config.js';

export type Step =
  /** Runs `argv`; with `unless`, only when `unless` fails (e.g. create a user only if missing). */
  | { kind: 'run'; why: string; argv: string[]; unless?: string[] }
  | { kind: 'write'; why: string; path: string; content: string; mode: number }
  | { kind: 'mkdir'; why: string; path: string; mode: number; owner: string; group: string }
  | { kind: 'remove'; why: string; path: string; recursive: boolean };

export function installPlan(config: ServiceConfig, unit: string, options: { addUser?: string | null } = {}): Step[] {
  const unitName = `${SERVICE_NAME}.service`;
  const steps: Step[] = [
    { kind: 'run', why: `group ${config.group} (may read the API token)`, argv: ['groupadd', '--system', config.group], unless: ['getent', 'group', config.group] },
    {
      kind: 'run',
      why: `system user ${config.user}`,
      argv: ['useradd', '--system', '--gid', config.group, '--home-dir', config.home, '--no-create-home', '--shell', '/usr/sbin/nologin', config.user],
      unless: ['id', '-u', config.user],
    },
    { kind: 'run', why: `${config.user} in the ${config.dockerGroup} group (the Docker socket)`, argv: ['usermod', '--append', '--groups', config.dockerGroup, config.user] },
    { kind: 'mkdir', why: 'the data folder', path: config.home, mode: 0o750, owner: config.user, group: config.group },
  ];
  if (options.addUser) {
    steps.push({ kind: 'run', why: `${options.addUser} may attach the desktop app to the service`, argv: ['usermod', '--append', '--groups', config.group, options.addUser] });
  }
  steps.push(
    { kind: 'write', why: 'the systemd unit', path: SYSTEMD_UNIT_PATH, content: unit, mode: 0o644 },
    { kind: 'run', why: 'systemd reads the unit', argv: ['systemctl', 'daemon-reload'] },
    { kind: 'run', why: 'start now and at every boot', argv: ['systemctl', 'enable', '--now', unitName] },
  );
  return steps;
}

export function uninstallPlan(config: ServiceConfig, options: { purge: boolean }): Step[] {
  const unitName = `${SERVICE_NAME}.service`;
  const steps: Step[] = [
    // The agent stops its jobs gracefully on SIGTERM (TimeoutStopSec in the unit).
    { kind: 'run', why: 'stop the agent (its jobs stop first) and forget it at boot', argv: ['systemctl', 'disable', '--now', unitName], unless: ['test', '!', '-e', SYSTEMD_UNIT_PATH] },
    { kind: 'remove', why: 'the systemd unit', path: SYSTEMD_UNIT_PATH, recursive: false },
    { kind: 'run', why: 'systemd forgets the unit', argv: ['systemctl', 'daemon-reload'] },
  ];
  if (options.purge) {
    steps.push(
      { kind: 'remove', why: 'the data folder (wallet keystore, ledger, settings)', path: config.home, recursive: true },
      { kind: 'run', why: `the user ${config.user}`, argv: ['userdel', config.user], unless: ['sh', '-c', `! id -u ${config.user}`] },
      { kind: 'run', why: `the group ${config.group}`, argv: ['groupdel', config.group], unless: ['sh', '-c', `! getent group ${config.group}`] },
    );
  }
  return steps;
}

/** The plan in words, for `--dry-run` and for the log of a real run. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'run':
      return `${step.why}: ${step.argv.join(' ')}${step.unless ? ` (unless \`${step.unless.join(' ')}\` succeeds)` : ''}`;
    case 'write':
      return `${step.why}: write ${step.path} (mode ${step.mode.toString(8)})`;
    case 'mkdir':
      return `${step.why}: ${step.path} owned by ${step.owner}:${step.group}, mode ${step.mode.toString(8)}`;
    case 'remove':
      return `${step.why}: remove ${step.path}`;
  }
}
