/**
 * Job specs, settings files and admin policy files through their real parsers, 10,000 hostile
 * inputs each (seeded; FUZZ_SEED=<n> replays): each is either accepted within the bounds or
 * refused with a structured error, never a crash, a hang or a polluted prototype.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../runtime/errors.js';
import { parseJobSpec } from '../../../runtime/jobs/outcome.js';
import { JOB_LIMITS, RESERVED_ENV } from '../../../runtime/jobs/schema.js';
import { parsePolicy } from '../../../runtime/policy/load.js';
import { parseSettings } from '../../../runtime/settings/store.js';
import { deepValueText, fuzzSeed, hostileString, hostileValue, mutated } from '../../helpers/hostile.js';

const RUNS = 10_000;
const SPEC = { image: 'sha256:' + 'a'.repeat(64), command: ['sh', '-c', 'echo hi'], env: { A: '1' }, gpus: 0, cpus: 1, memoryMiB: 512, network: { allow: ['example.com:443'] } };
const SPEC_FIELDS = ['id', 'marketJobId', 'image', 'command', 'env', 'gpus', 'cpus', 'memoryMiB', 'shmMiB', 'diskMiB', 'outputMiB', 'timeoutSeconds', 'network'];

function samples<T>(name: string, arb: fc.Arbitrary<T>): { seed: number; inputs: T[] } {
  const seed = fuzzSeed(name);
  return { seed, inputs: fc.sample(arb, { seed, numRuns: RUNS }) };
}

/** Runs `check` on every input; on a failure names the seed and the input's index. */
function each<T>(name: string, seed: number, inputs: T[], check: (input: T) => void): void {
  const t0 = performance.now();
  let slowest = 0;
  inputs.forEach((input, i) => {
    const t = performance.now();
    try {
      check(input);
    } catch (error) {
      throw new Error(`${name}: input #${i} of seed ${seed} (FUZZ_SEED=${seed}) failed: ${error instanceof Error ? error.message : String(error)}\n${JSON.stringify(input)?.slice(0, 500)}`, { cause: error });
    }
    slowest = Math.max(slowest, performance.now() - t);
  });
  console.log(`${name}: ${inputs.length} inputs, 0 crashes, slowest ${slowest.toFixed(1)} ms, all ${(performance.now() - t0).toFixed(0)} ms`);
  // A hang, not a slow input: a 100,000-deep document takes ~0.4 s in JSON.parse on a loaded 2-core VM.
  expect(slowest).toBeLessThan(5000);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('fuzzing the parsers', () => {
  it(`job specs: ${RUNS} hostile specs are accepted within the bounds or refused with invalid-input`, () => {
    const arb = fc.oneof({ weight: 3, arbitrary: mutated(SPEC, SPEC_FIELDS) }, { weight: 1, arbitrary: hostileValue }, { weight: 1, arbitrary: deepValueText.map((t) => JSON.parse(t) as unknown) });
    const { seed, inputs } = samples('job specs', arb);
    let accepted = 0;
    each('job specs', seed, inputs, (input) => {
      let spec;
      try {
        spec = parseJobSpec(input, () => 'generated');
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'invalid-input') throw error;
        expect(error.message.length).toBeLessThan(20_000);
        return;
      }
      accepted++;
      expect(spec.command.join('').length).toBeLessThanOrEqual(JOB_LIMITS.commandChars);
      expect(Object.keys(spec.env).some((k) => RESERVED_ENV.test(k))).toBe(false);
      expect(Object.getPrototypeOf(spec)).toBe(Object.prototype);
      expect(Object.keys(spec)).not.toContain('__proto__');
    });
    console.log(`job specs: ${accepted} accepted, ${RUNS - accepted} refused`);
  });

  it(`settings files: ${RUNS} hostile files give each section a patch or a problem, never a throw`, () => {
    const doc = { schedule: { idle: { minutes: 5 } }, sandbox: { runtime: 'runc' }, desktop: {}, market: {} };
    const arb = fc.oneof(
      mutated(doc, Object.keys(doc)).map((v) => JSON.stringify(v)),
      fc.constantFrom('schedule', 'sandbox', 'desktop', 'market').chain((section) => mutated({}, ['idle', 'windows', 'thermal', 'runtime', 'url', 'enabled']).map((v) => JSON.stringify({ [section]: v }))),
      hostileString,
      deepValueText,
    );
    const { seed, inputs } = samples('settings', arb);
    each('settings', seed, inputs, (text) => {
      const parsed = parseSettings(text);
      for (const [, state] of parsed.sections) expect(state.patch === undefined || state.problem === null).toBe(true);
    });
  });

  it(`policy files: ${RUNS} hostile files are ok or invalid (fail safe), never a throw`, () => {
    const policy = { mandatory: { schedule: { exclusiveApps: ['cs2.exe'] } }, recommended: { schedule: { idle: { minutes: 10 } } } };
    const arb = fc.oneof(mutated(policy, ['mandatory', 'recommended']).map((v) => JSON.stringify(v)), hostileString, deepValueText, hostileValue.map((v) => JSON.stringify(v) ?? ''));
    const { seed, inputs } = samples('policy', arb);
    each('policy', seed, inputs, (text) => {
      const p = parsePolicy(text, '/etc/offshift/policy.json');
      expect(['ok', 'invalid']).toContain(p.state);
    });
  });
});
