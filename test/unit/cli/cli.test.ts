import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { argSpecFromUsage, parseArgs } from '../../../runtime/cli/args.js';
import { allCommands, runCli } from '../../../runtime/cli.js';
import { VERSION } from '../../../runtime/version.js';

function io() {
  const out = { stdout: '', stderr: '' };
  return { out, io: { env: {}, stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

describe('offshift command line', () => {
  it('lists its commands', async () => {
    const { out, io: cliIo } = io();
    expect(await runCli(['help'], cliIo)).toBe(0);
    expect(out.stdout).toMatch(/agent\s+Run the headless agent/);
    expect(out.stdout).toContain('gpus');
  });

  it('refuses an unknown command with exit code 2 and says what to do', async () => {
    const { out, io: cliIo } = io();
    expect(await runCli(['frobnicate'], cliIo)).toBe(2);
    expect(out.stderr).toContain('offshift help');
  });

  it('parses options, repeatable options, boolean flags and the command after --', () => {
    const spec = { booleans: ['json'], values: ['image', 'env', 'port'] };
    const args = parseArgs(['run', '--image=sha256:abc', '--env', 'A=1', '--env', 'B=2', '--json', '--', 'sh', '-c', 'echo hi'], spec);
    expect(args.positionals).toEqual(['run']);
    expect(args.options.get('image')).toEqual(['sha256:abc']);
    expect(args.options.get('env')).toEqual(['A=1', 'B=2']);
    expect(args.flags.has('json')).toBe(true);
    expect(args.rest).toEqual(['sh', '-c', 'echo hi']);
    expect(() => parseArgs(['--port'], spec)).toThrow(/--port needs a value/);
    expect(() => parseArgs(['--port', '--json'], spec)).toThrow(/--port needs a value/);
  });

  it('refuses what a command does not declare: unknown options, single-dash options, a value on a flag', () => {
    const spec = argSpecFromUsage('job list [--limit N] [--offset N] [--json]');
    expect(spec).toEqual({ booleans: ['json'], values: ['limit', 'offset'] });
    expect(() => parseArgs(['--limt', '5'], spec)).toThrow('unknown option --limt. This command takes --json, --limit, --offset (and --help).');
    expect(() => parseArgs(['-x'], spec)).toThrow(/unknown option -x/);
    expect(() => parseArgs(['--json=false'], spec)).toThrow(/--json takes no value/);
    expect(parseArgs(['-h'], spec).flags.has('help')).toBe(true);
    expect(parseArgs(['--offset', '-1'], spec).options.get('offset')).toEqual(['-1']);
    expect(() => parseArgs(['--json'], argSpecFromUsage('demo serve'))).toThrow(/takes no options/);
  });

  it('every command refuses an unknown flag with exit code 2, a usage error on stderr and nothing on stdout', async () => {
    const commands = await allCommands();
    expect(commands.length).toBeGreaterThan(20);
    for (const command of commands) {
      const { out, io: cliIo } = io();
      const code = await runCli([...command.name.split(' '), '--no-such-flag', '--json'], cliIo);
      expect(code, command.name).toBe(2);
      expect(out.stdout, command.name).toBe('');
      expect(out.stderr, command.name).toMatch(/unknown option --no-such-flag/);
    }
  });

  it('a typo in a real command is refused before anything runs', async () => {
    const { out, io: cliIo } = io();
    expect(await runCli(['pause', '--fro', '30'], cliIo)).toBe(2);
    expect(out.stderr).toContain('unknown option --fro. This command takes --for, --json, --until');
  });

  it('--json puts only JSON on stdout (commands that run without an agent, Docker or a chain)', async () => {
    const { makeTempHome } = await import('../../helpers/temp-home.js');
    const temp = makeTempHome();
    try {
      for (const argv of [['job', 'list', '--json'], ['schedule', 'show', '--json'], ['wallet', 'status', '--json'], ['job', 'list', '--limit', '5', '--offset', '0', '--json']]) {
        const out = { stdout: '', stderr: '' };
        const env = { OFFSHIFT_HOME: temp.home, HOME: temp.home, TZ: 'UTC', OFFSHIFT_MARKET: 'off' };
        const code = await runCli(argv, { env, stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t) });
        expect(code, argv.join(' ') + out.stderr).toBe(0);
        expect(() => JSON.parse(out.stdout), `${argv.join(' ')}: ${out.stdout.slice(0, 200)}`).not.toThrow();
      }
    } finally {
      temp.cleanup();
    }
  });

  it('a group alone or with --help lists its commands instead of answering "unknown command"', async () => {
    for (const argv of [['service', '--help'], ['market', '-h']]) {
      const { out, io: cliIo } = io();
      expect(await runCli(argv, cliIo), argv.join(' ')).toBe(0);
      expect(out.stdout).toMatch(new RegExp(`Usage: offshift ${argv[0]} <command>`));
      expect(out.stderr).toBe('');
    }
    for (const [group, member] of [['market', 'market serve'], ['wallet', 'wallet status']] as const) {
      const { out, io: cliIo } = io();
      expect(await runCli([group], cliIo), group).toBe(2);
      expect(out.stdout).toContain(member);
      expect(out.stdout).not.toContain('unknown command');
    }
    const { out, io: cliIo } = io();
    expect(await runCli(['wallet', 'frobnicate'], cliIo)).toBe(2);
    expect(out.stderr).toContain('unknown command "wallet frobnicate"');
    expect(out.stderr).toContain('wallet status');
  });

  it('every command accepts --json, market serve included', async () => {
    for (const command of await allCommands()) {
      const { out, io: cliIo } = io();
      expect(await runCli([...command.name.split(' '), '--json', '--help'], cliIo), command.name + out.stderr).toBe(0);
    }
  });

  it('reports the version of package.json', () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
