import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { describeStep, type Step } from './plan.js';

export interface PlanRunner {
  exec(argv: string[]): { code: number; output: string };
  print(line: string): void;
}

export function systemRunner(print: (line: string) => void): PlanRunner {
  return {
    exec(argv) {
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
      if (r.error) return { code: 127, output: r.error.message };
      return { code: r.status ?? 1, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
    },
    print,
  };
}

/** Runs the steps in order; stops at the first failure with what failed and its output. */
export function runPlan(steps: readonly Step[], runner: PlanRunner): void {
  for (const step of steps) {
    if (step.kind === 'run') {
      if (step.unless && runner.exec(step.unless).code === 0) continue;
      runner.print(`  ${describeStep(step)}`);
      const r = runner.exec(step.argv);
      if (r.code !== 0) throw new AppError('service-failed', `${step.why} failed: \`${step.argv.join(' ')}\` exited with ${r.code}${r.output ? `: ${r.output.slice(0, 500)}` : ''}`);
    } else if (step.kind === 'write') {
      runner.print(`  ${describeStep(step)}`);
      writeFileAtomic(step.path, step.content, step.mode);
      fs.chmodSync(step.path, step.mode);
    } else if (step.kind === 'mkdir') {
      runner.print(`  ${describeStep(step)}`);
      fs.mkdirSync(step.path, { recursive: true });
      fs.chmodSync(step.path, step.mode);
      const r = runner.exec(['chown', `${step.owner}:${step.group}`, step.path]);
      if (r.code !== 0) throw new AppError('service-failed', `could not give ${step.path} to ${step.owner}: ${r.output}`);
    } else {
      if (!fs.existsSync(step.path)) continue;
      runner.print(`  ${describeStep(step)}`);
      fs.rmSync(step.path, { recursive: step.recursive, force: true });
    }
  }
}
