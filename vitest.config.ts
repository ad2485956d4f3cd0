import os from 'node:os';
import { defineConfig } from 'vitest/config';

// Three projects, run one after the other (sequence.groupOrder):
// - unit: pure logic, temp folders and fakes only; files run in parallel.
// - integration-parallel: integration files that need no Docker engine, no root-wide state
//   (iptables, mounts) and assert no timings, each with its own temp folders, its own agent on
//   port 0 and its own anvil on a free port: files run in parallel with each other.
// - integration (with e2e): they share one Docker engine, one chain and few cores, and some
//   measure how fast things stop: files run one at a time, as before.
const shared = {
  testTimeout: 30_000,
  hookTimeout: 120_000,
  // Agents started by tests do not start the marketplace's demo network (anvil, a market, a
  // Docker build) unless the test asks for it by clearing this.
  env: { OFFSHIFT_MARKET: 'off' },
};

// At least three workers even on two cores (vitest's default there is one): much of these files'
// time is spent waiting (imports, child processes, timers). Measured on 2 cores: the unit files
// took 80 s with three workers against 111 s with one, the parallel integration files 108 s
// against 180 s.
const workers = Math.max(3, os.availableParallelism() - 1);

/** Safe to run side by side: see above. A file added here must keep to those rules. */
const parallelIntegration = [
  'api/crash',
  'api/fuzz',
  'api/websocket',
  'chain/escrow',
  'faults/corrupt-files',
  'faults/damaged-files',
  'bench/device-kit',
  'gpu/inventory',
  'images/lying-registry',
  'market/fuzz',
  'market/provider-fuzz',
  'market/replace',
  'schedule/gpu-signals',
  'service/service-config',
  'wallet/api',
  'wallet/identity',
  'wallet/legacy-ledger',
  'wallet/lying-buyer',
  'wallet/wallet',
].map((name) => `test/integration/${name}.test.ts`);

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts'], maxWorkers: workers, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { ...shared, name: 'integration-parallel', include: parallelIntegration, maxWorkers: workers, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: parallelIntegration,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
