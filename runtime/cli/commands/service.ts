/**
 * `offshift service install|uninstall|status`: the agent as a system service (systemd on
 * Linux) for rigs and studio machines, running as its own user in the docker group, with its
 * data in /var/lib/offshift and its token readable by the `offshift` group. macOS and Windows
 * get their definition files printed (`--print`) with the steps in docs/service.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../../errors.js';
import { policyFilePath } from '../../policy/paths.js';
import { parseStudioConfig } from '../../policy/studio-config.js';
import { studioConfigSteps } from '../../service/config-plan.js';
import { defaultServiceConfig, serviceLocation, SYSTEMD_UNIT_PATH, type ServiceConfig } from '../../service/config.js';
import { launchdPlist, winswXml } from '../../service/launchd-plist.js';
import { describeStep, installPlan, uninstallPlan } from '../../service/plan.js';
import { probeService } from '../../service/probe.js';
import { runPlan, systemRunner } from '../../service/run-plan.js';
import { systemdUnit } from '../../service/systemd-unit.js';
import type { ParsedArgs } from '../args.js';
import type { CliCommand, CliIO } from '../command.js';

/** The built CLI that the service runs: this very file's bundle (dist/runtime/cli.js). */
function builtCli(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // Bundled, this module lives in dist/runtime/cli.js or a chunk under dist/chunks/.
  const dist = path.basename(here) === 'chunks' ? path.dirname(here) : path.resolve(here, '..');
  return path.join(dist, 'runtime', 'cli.js');
}

function config(args: ParsedArgs, io: CliIO): ServiceConfig {
  const c = defaultServiceConfig(process.execPath, builtCli());
  const port = args.options.get('port')?.at(-1);
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new AppError('usage', `--port ${port} is not a port number (1-65535).`);
    c.port = n;
  }
  if (io.env.OFFSHIFT_SERVICE_HOME) c.home = io.env.OFFSHIFT_SERVICE_HOME;
  return c;
}

/**
 * Reads and checks a studio config; any problem is a usage error naming the file and the field.
 * `install` says that nothing was installed; `check-config` has installed nothing anyway.
 */
function readStudioConfig(file: string, forInstall = true) {
  const label = forInstall ? `--config ${file}` : file;
  const tail = forInstall ? ' Nothing was installed.' : '';
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new AppError('usage', `${label} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).${tail}`);
  }
  const parsed = parseStudioConfig(text);
  if (!parsed.ok) throw new AppError('usage', `${label} is invalid: ${parsed.message}.${tail}`);
  return parsed;
}

function requireLinuxRoot(action: string): void {
  if (process.platform !== 'linux') {
    throw new AppError('unsupported', `\`offshift service ${action}\` manages a systemd service on Linux. On macOS and Windows, \`offshift service print\` writes the service definition; docs/service.md has the steps.`);
  }
  if (process.getuid?.() !== 0) throw new AppError('permission', `Managing the system service needs root: run \`sudo offshift service ${action}\`.`);
}

export const serviceInstallCommand: CliCommand = {
  name: 'service install',
  summary: 'Install the agent as a system service (systemd), running whether or not anyone is logged in.',
  usage: 'service install [--config FILE] [--port N] [--dry-run]   (as root)',
  booleanFlags: ['dry-run'],
  async run(args, io) {
    const c = config(args, io);
    const addUser = io.env.SUDO_USER && io.env.SUDO_USER !== 'root' ? io.env.SUDO_USER : null;
    // The studio's config is checked before anything is installed: a bad file installs nothing.
    const configFile = args.options.get('config')?.at(-1);
    const seed = configFile === undefined ? [] : studioConfigSteps(readStudioConfig(configFile), policyFilePath(io.env));
    const steps = [...seed, ...installPlan(c, systemdUnit(c), { addUser })];
    if (args.flags.has('dry-run')) {
      io.stdout(`Would install the Offshift service:\n${steps.map((s) => `  ${describeStep(s)}`).join('\n')}\n`);
      return 0;
    }
    requireLinuxRoot('install');
    io.stdout('Installing the Offshift service:\n');
    runPlan(steps, systemRunner((line) => io.stdout(line + '\n')));
    io.stdout(
      (configFile === undefined ? '' : `The studio's settings are the administrator's policy in ${policyFilePath(io.env)}: what its \`mandatory\` layer sets is locked.\n`) +
        `The Offshift service runs as ${c.user} (data: ${c.home}, dashboard on 127.0.0.1:${c.port}).\n` +
        (addUser ? `${addUser} was added to the ${c.group} group: log out and in again, and the desktop app attaches to the service.\n` : `Members of the ${c.group} group can attach the desktop app: sudo usermod -aG ${c.group} <user>.\n`),
    );
    return 0;
  },
};

export const serviceUninstallCommand: CliCommand = {
  name: 'service uninstall',
  summary: 'Stop and remove the system service (its data stays unless --purge).',
  usage: 'service uninstall [--purge] [--dry-run]   (as root)',
  booleanFlags: ['purge', 'dry-run'],
  async run(args, io) {
    const c = config(args, io);
    const purge = args.flags.has('purge');
    const steps = uninstallPlan(c, { purge });
    if (args.flags.has('dry-run')) {
      io.stdout(`Would uninstall the Offshift service:\n${steps.map((s) => `  ${describeStep(s)}`).join('\n')}\n`);
      return 0;
    }
    requireLinuxRoot('uninstall');
    io.stdout('Removing the Offshift service:\n');
    runPlan(steps, systemRunner((line) => io.stdout(line + '\n')));
    io.stdout(purge ? 'Removed, with its data.\n' : `Removed. Its data (wallet keystore, ledger, settings) stays in ${c.home}; \`--purge\` removes it.\n`);
    return 0;
  },
};

export const serviceStatusCommand: CliCommand = {
  name: 'service status',
  summary: 'Whether the system service is installed and running, and whether you may attach to it.',
  usage: 'service status [--json]',
  async run(args, io) {
    const location = serviceLocation(io.env);
    const probe = await probeService(location);
    const unit = process.platform === 'linux' ? systemRunner(() => {}).exec(['systemctl', 'is-active', 'offshift.service']) : null;
    const systemd = unit ? unit.output.split('\n')[0] || 'unknown' : null;
    if (args.flags.has('json')) {
      const { token: _token, ...safe } = probe.state === 'running' ? probe : { ...probe, token: undefined };
      io.stdout(JSON.stringify({ ...safe, systemd, unitFile: SYSTEMD_UNIT_PATH }) + '\n');
      return probe.state === 'running' ? 0 : 3;
    }
    const lines: Record<typeof probe.state, string> = {
      running: `The Offshift service is running (data ${location.home}, port ${location.port}); the desktop app attaches to it.`,
      'no-access': `The Offshift service is installed (${location.home}) but you may not read its token: \`sudo usermod -aG offshift $USER\`, then log in again.`,
      'not-running': `The Offshift service is installed but no agent answers on port ${location.port}: \`sudo systemctl start offshift\`, and \`journalctl -u offshift\` says why it stopped.`,
      absent: 'The Offshift service is not installed here: `sudo offshift service install` installs it.',
    };
    io.stdout(`${lines[probe.state]}${systemd ? ` (systemd: ${systemd})` : ''}\n`);
    return probe.state === 'running' ? 0 : 3;
  },
};

/** Writes the service definition for a platform without `install` support here. */
export const servicePrintCommand: CliCommand = {
  name: 'service print',
  summary: 'Print the service definition: systemd unit (linux), launchd plist (darwin) or WinSW XML (win32).',
  usage: 'service print [--platform linux|darwin|win32] [--port N]',
  async run(args, io) {
    const platform = (args.options.get('platform')?.at(-1) ?? process.platform) as NodeJS.Platform;
    if (!['linux', 'darwin', 'win32'].includes(platform)) throw new AppError('usage', `--platform must be linux, darwin or win32 (got ${platform}).`);
    const c = { ...defaultServiceConfig(process.execPath, builtCli(), platform), ...(args.options.get('port') ? { port: Number(args.options.get('port')!.at(-1)) } : {}) };
    io.stdout(platform === 'linux' ? systemdUnit(c) : platform === 'darwin' ? launchdPlist(c) : winswXml(c));
    return 0;
  },
};

/**
 * Checks a studio config on any platform without installing anything: what Jamf or Intune runs
 * before copying the file into the policy location themselves (docs/studios.md).
 */
export const serviceCheckConfigCommand: CliCommand = {
  name: 'service check-config',
  summary: 'Check a studio config file (the admin policy, and wallet.payoutAddress) without installing anything.',
  usage: 'service check-config FILE [--as-policy]',
  booleanFlags: ['as-policy'],
  async run(args, io) {
    const file = args.positionals[0];
    if (file === undefined) throw new AppError('usage', 'Usage: offshift service check-config FILE [--as-policy]');
    const parsed = readStudioConfig(file, false);
    // --as-policy: the file is copied as the policy file itself (Ansible's `validate`), which has no `wallet`.
    if (args.flags.has('as-policy') && parsed.shorthand) {
      throw new AppError('usage', `${file} is invalid as the policy file: wallet: the policy file has no \`wallet\` key (the agent would refuse the file and run no work); write the payout address as "mandatory": { "payout": { "address": "0x…" } }, or install with \`offshift service install --config ${file}\`, which does that.`);
    }
    io.stdout(
      `${file} is valid. Install it as ${policyFilePath(io.env)}: what its \`mandatory\` layer sets is locked.\n` +
        (parsed.payoutAddress !== null ? `Every machine pays its earnings to ${parsed.payoutAddress} (mandatory.payout.address), which no machine's key can spend from.\n` : ''),
    );
    return 0;
  },
};

/**
 * Checks a studio config and puts it in place (the policy file) on any
 * platform, without installing the service: for the macOS and Windows deployment scripts, which
 * install the service themselves, and for a later change of the config. Needs an administrator.
 */
export const serviceApplyConfigCommand: CliCommand = {
  name: 'service apply-config',
  summary: 'Check a studio config and write it as the administrator\'s policy, without installing the service.',
  usage: 'service apply-config FILE   (as administrator)',
  async run(args, io) {
    const file = args.positionals[0];
    if (file === undefined) throw new AppError('usage', 'Usage: offshift service apply-config FILE');
    const parsed = readStudioConfig(file, false);
    const policyFile = policyFilePath(io.env);
    // The folder's owner and permissions are the platform's business (chown root, icacls): only the files are written here.
    const steps = studioConfigSteps(parsed, policyFile).filter((s) => s.kind !== 'mkdir');
    try {
      fs.mkdirSync(path.dirname(policyFile), { recursive: true, mode: 0o755 });
      runPlan(steps, { exec: () => ({ code: 1, output: 'no commands here' }), print: (line) => io.stdout(line + '\n') });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') throw new AppError('permission', `Writing ${policyFile} needs an administrator (sudo on Linux and macOS, an elevated shell or SYSTEM on Windows).`);
      throw error;
    }
    io.stdout(`The studio's settings are the administrator's policy in ${policyFile}: what its \`mandatory\` layer sets is locked.\n`);
    return 0;
  },
};

export const serviceCommands: CliCommand[] = [serviceInstallCommand, serviceUninstallCommand, serviceStatusCommand, servicePrintCommand, serviceCheckConfigCommand, serviceApplyConfigCommand];
