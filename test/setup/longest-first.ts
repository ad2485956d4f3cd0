/**
 * Vitest's file order, with the longest files first: side by side, a long file started last
 * makes the whole phase wait for it (measured: the 1,000-burst property started 92 s in and
 * ended the phase 290 s later). Vitest orders by the durations of an earlier run when it has
 * them; a fresh clone (CI) has none, so the files known to take longest are named here, longest
 * first. The rest keep Vitest's order.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LONGEST = [
  'integration/market/provider-bursts',
  'integration/market/demo',
  'integration/market/provider',
  'integration/demo/lifetimes',
  'integration/images/pulls',
  'integration/market/provider-restart',
  'integration/demo/buyer-disk-full',
  'integration/faults/agent-kill',
  'integration/faults/disk-full-job',
  'integration/market/replace',
  'e2e/bench',
  'integration/market/payout',
  'integration/metrics/cli',
  'integration/wallet/voucher-property',
  'integration/bench/cli',
  'integration/demo/buyer-gpu',
].map((name) => `/test/${name}.test.ts`);

const rank = (spec: TestSpecification): number => {
  const i = LONGEST.findIndex((suffix) => spec.moduleId.endsWith(suffix));
  return i < 0 ? LONGEST.length : i;
};

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const group = (spec: TestSpecification) => spec.project.config.sequence.groupOrder;
    return [...sorted].sort((a, b) => group(a) - group(b) || rank(a) - rank(b));
  }
}
