import { defineConfig } from 'vitest/config';

// Two projects, run one after the other (sequence.groupOrder):
// - unit: pure logic, temp folders and fakes only; files run in parallel.
// - integration (with e2e): they share one Docker engine, one chain and few cores, and some
//   measure how fast things stop: files run one at a time, as before.
const shared = {
  testTimeout: 30_000,
  hookTimeout: 120_000,
  // Agents started by tests do not start the marketplace's demo network (anvil, a market, a
  // Docker build) unless the test asks for it by clearing this.
  env: { OFFSHIFT_MARKET: 'off' },
};

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
