import os from 'node:os';
import { defineConfig } from 'vitest/config';
import { LongestFirst } from './test/setup/longest-first.js';

// Two phases (sequence.groupOrder):
// 1. Side by side, WORKERS files at a time: the unit tests, the integration files that need no
//    Docker engine, and the integration and e2e files that share the engine but keep to their own
//    things (containers, networks and firewall chains labelled with their own agent's instance;
//    their own data folders, tmpfs mounts, chains on free ports, agents on port 0; processes
//    found and killed by their own data folder). Most of their time is spent waiting (containers,
//    report intervals, child processes): measured on 2 cores, a serial run of them kept the CPU
//    idle about two thirds of the time.
// 2. One at a time, alone on the machine (EXCLUSIVE): the files that read or change what the
//    whole machine shares (the host's iptables rules as a whole, the engine's images pruned, an
//    engine of their own started), and those whose bounds leave little room over what they
//    measure (a 1 s job limit ended within 4 s, a re-adopted job's remainder within 3.5 s, the
//    GPU given back within 5 s, hostile jobs exhausting the machine). Beside other files those
//    figures would measure the neighbours. The agent's own stop (5 s) stays in phase 1: measured
//    there it took 69–672 ms.
// A file added to phase 1 must keep to those rules; when in doubt, it goes to EXCLUSIVE.
const shared = {
  testTimeout: 30_000,
  hookTimeout: 120_000,
  // Agents started by tests do not start the marketplace's demo network (anvil, a market, a
  // Docker build) unless the test asks for it by clearing this.
  env: { OFFSHIFT_MARKET: 'off' },
};

// Four workers even on two cores: the integration files mostly wait (see above).
const WORKERS = Math.max(4, os.availableParallelism());

/** Alone on the machine, one at a time, after everything else: see above. */
const EXCLUSIVE = [
  // the host's firewall rules compared as a whole, before and after
  'integration/sandbox/network',
  'integration/sandbox/network-nonroot',
  'integration/sandbox/firewall-engine',
  'integration/sandbox/firewall-capability',
  // an engine of its own (a private dockerd), restarted
  'integration/faults/engine-restart',
  // prunes every unused image its agent knows, and removes images by name
  'integration/images/budget',
  // bounds of a few seconds on a job's timing, a give-back, an answer under a flood of slow clients
  'integration/sandbox/hostile',
  'integration/jobs/recovery',
  'integration/jobs/lifecycle',
  'integration/jobs/shutdown',
  'integration/schedule/give-back',
  'integration/api/slowloris',
  'integration/api/hostile',
  'integration/metrics/prometheus',
  'integration/gpu/system-check',
  'integration/faults/stop-while-starting',
].map((name) => `test/${name}.test.ts`);

export default defineConfig({
  test: {
    reporters: ['default'],
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts'], maxWorkers: WORKERS, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          ...shared,
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: EXCLUSIVE,
          maxWorkers: WORKERS,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { ...shared, name: 'exclusive', include: EXCLUSIVE, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
