import { defineConfig } from 'vitest/config';

// Integration and e2e tests share one Docker engine, one chain and two cores: run files one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // Agents started by tests do not start the marketplace's demo network (anvil, a market, a
    // Docker build) unless the test asks for it by clearing this.
    env: { OFFSHIFT_MARKET: 'off' },
    reporters: ['default'],
  },
});
