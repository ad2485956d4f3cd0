import { createGpuService } from '../../gpu/service.js';
import { debugLogger } from '../logger.js';
import { resolveHome } from '../../storage/home.js';
import type { SystemCheck } from '../../system/schema.js';
import { runSystemCheck } from '../../check/system-check.js';
import type { CliCommand } from '../command.js';

const MARK = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;

export function formatCheck(check: SystemCheck): string {
  const width = Math.max(...check.items.map((i) => i.title.length));
  const lines = check.items.map((i) => `${MARK[i.status]}  ${i.title.padEnd(width)}  ${i.message}`);
  const fails = check.items.filter((i) => i.status === 'fail').length;
  const warns = check.items.filter((i) => i.status === 'warn').length;
  const summary =
    fails > 0
      ? `${fails} problem${fails === 1 ? '' : 's'} to fix before this machine can earn${warns ? `, ${warns} warning${warns === 1 ? '' : 's'}` : ''}.`
      : warns > 0
        ? `Ready, with ${warns} warning${warns === 1 ? '' : 's'}.`
        : 'Ready: every check passed.';
  return `${lines.join('\n')}\n\n${summary}\n`;
}

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'Check what this machine needs to earn: GPU driver, Docker, GPU access for containers, disk.',
  usage: 'check [--json]   (exit code 0 when nothing fails, 1 when an item fails; warnings do not fail)',
  async run(args, io) {
    const log = debugLogger(io);
    const gpu = createGpuService({ env: io.env, log, telemetryIntervalMs: 1000, onSamples: () => {}, onTelemetryStatus: () => {} });
    const check = await runSystemCheck({ env: io.env, home: resolveHome(io.env), gpu });
    io.stdout(args.flags.has('json') ? JSON.stringify(check, null, 2) + '\n' : formatCheck(check));
    return check.items.some((i) => i.status === 'fail') ? 1 : 0;
  },
};
