#!/usr/bin/env node
/**
 * `offshift …`: the headless agent and every operation from a shell. Each subcommand lives in
 * runtime/cli/commands/<name>.ts and is listed below.
 */
import { pathToFileURL } from 'node:url';
import { AppError } from './errors.js';
import { argSpecFromUsage, parseArgs } from './cli/args.js';
import type { CliCommand, CliIO } from './cli/command.js';

/**
 * Every command group is loaded only when one of its commands runs (or for help): a command
 * loads its own modules and no other's (`offshift wallet status` never loads the agent's, and
 * the money commands' ethers stays out of `offshift agent` without a wallet). Listed in the
 * order help shows them.
 */
const groups: Record<string, () => Promise<CliCommand[]>> = {
  agent: () => import('./cli/commands/agent.js').then((m) => [m.agentCommand]),
  gpus: () => import('./cli/commands/gpus.js').then((m) => [m.gpusCommand]),
  check: () => import('./cli/commands/check.js').then((m) => [m.checkCommand]),
  schedule: () => import('./cli/commands/schedule.js').then((m) => [m.scheduleDecideCommand, m.scheduleShowCommand]),
  pause: () => import('./cli/commands/pause.js').then((m) => [m.pauseCommand]),
  resume: () => import('./cli/commands/resume.js').then((m) => [m.resumeCommand]),
  job: () => import('./cli/commands/job.js').then((m) => m.jobCommands),
  service: () => import('./cli/commands/service.js').then((m) => m.serviceCommands),
  wallet: () => import('./cli/commands/wallet.js').then((m) => m.walletCommands),
  devnet: () => import('./cli/commands/devnet.js').then((m) => m.devnetCommands),
  earnings: () => import('./cli/commands/earnings.js').then((m) => m.earningsCommands),
  // `market serve|jobs|providers` (the reference market), `market config` and `market status` (the agent's).
  market: () =>
    Promise.all([import('./cli/commands/market.js'), import('./cli/commands/market-config.js'), import('./cli/commands/market-status.js')]).then(([serve, config, status]) => [
      ...serve.marketCommands,
      config.marketConfigCommand,
      status.marketStatusCommand,
    ]),
  buyer: () => import('./cli/commands/buyer.js').then((m) => m.buyerCommands),
  bench: () => import('./cli/commands/bench.js').then((m) => m.benchCommands),
  demo: () => import('./cli/commands/demo.js').then((m) => m.demoCommands),
  images: () => import('./cli/commands/images.js').then((m) => m.imagesCommands),
  policy: () => import('./cli/commands/policy.js').then((m) => m.policyCommands),
  metrics: () => import('./cli/commands/metrics.js').then((m) => m.metricsCommands),
  fleet: () => import('./cli/commands/fleet.js').then((m) => m.fleetCommands),
};

export async function allCommands(): Promise<CliCommand[]> {
  return (await Promise.all(Object.values(groups).map((load) => load()))).flat();
}

async function commandsFor(name: string): Promise<CliCommand[]> {
  return Object.hasOwn(groups, name) ? groups[name]!() : [];
}

function commandList(commands: CliCommand[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n');
}

async function help(io: CliIO): Promise<void> {
  io.stdout(`Usage: offshift <command> [options]\n\nCommands:\n${commandList(await allCommands())}\n\nRun \`offshift <command> --help\` for a command's options; every command takes --json.\n`);
}

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

/** `offshift market`, `offshift service --help`: a group's commands, not an unknown command. */
function groupHelp(name: string, sub: string | undefined, group: CliCommand[], io: CliIO): number {
  const list = `Usage: offshift ${name} <command> [options]\n\nCommands:\n${commandList(group)}\n\nRun \`offshift ${name} <command> --help\` for a command's options.\n`;
  if (isHelp(sub)) {
    io.stdout(list);
    return 0;
  }
  if (sub === undefined) io.stdout(list);
  else io.stderr(`offshift: unknown command "${name} ${sub}".\n\n${list}`);
  return 2;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || isHelp(name)) {
    await help(io);
    return name ? 0 : 2;
  }
  // Two-word commands (`job run`, `wallet status`) are matched first.
  const cliCommands = await commandsFor(name);
  const two = rest[0] ? cliCommands.find((c) => c.name === `${name} ${rest[0]}`) : undefined;
  const command = two ?? cliCommands.find((c) => c.name === name);
  if (!command) {
    const group = cliCommands.filter((c) => c.name.startsWith(`${name} `));
    if (group.length > 0) return groupHelp(name, rest[0], group, io);
    io.stderr(`offshift: unknown command "${name}". Run \`offshift help\` for the list.\n`);
    return 2;
  }
  const args = two ? rest.slice(1) : rest;
  try {
    // Every command takes --json; those with nothing more to say in JSON print what they print anyway.
    const parsed = parseArgs(args, argSpecFromUsage(command.usage, [...(command.booleanFlags ?? []), 'json']));
    if (parsed.flags.has('help')) {
      io.stdout(`Usage: offshift ${command.usage}\n\n${command.summary}\n`);
      return 0;
    }
    return await command.run(parsed, io);
  } catch (error) {
    if (error instanceof AppError) {
      io.stderr(`offshift ${command.name}: ${error.message}\n`);
      return error.code === 'usage' || error.code === 'invalid-input' ? 2 : 1;
    }
    io.stderr(`offshift ${command.name}: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain || process.env.OFFSHIFT_CLI_MAIN === '1') {
  const io: CliIO = { env: process.env, stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), stderrIsTerminal: process.stderr.isTTY };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`offshift: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
