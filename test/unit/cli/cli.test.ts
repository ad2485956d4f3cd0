import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../../runtime/cli/args.js';
import { runCli } from '../../../runtime/cli.js';
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
    const args = parseArgs(['run', '--image=sha256:abc', '--env', 'A=1', '--env', 'B=2', '--json', '--', 'sh', '-c', 'echo hi']);
    expect(args.positionals).toEqual(['run']);
    expect(args.options.get('image')).toEqual(['sha256:abc']);
    expect(args.options.get('env')).toEqual(['A=1', 'B=2']);
    expect(args.flags.has('json')).toBe(true);
    expect(args.rest).toEqual(['sh', '-c', 'echo hi']);
    expect(() => parseArgs(['--port'])).toThrow(/--port needs a value/);
  });

  it('reports the version of package.json', () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
