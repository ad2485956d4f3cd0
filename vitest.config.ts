import os from 'node:os';
import { defineConfig } from 'vitest/config';
import { LongestFirst } from './test/setup/longest-first.js';

// Two phases (sequence.groupOrder):
// 1. Side by side, WORKERS files at a time: the unit tests, the integration files that need no
//    Docker engine, and the integration and e2e files that share the engine but keep to their own
//    things (containers, networks and firewall chains labelled with their own agent's instance;
//    their own data folders, tmpfs mounts, chains on free ports, agents on port 0, images made of
//    random layers, a private engine in a network namespace of its own; processes found and
//    killed by their own data folder). Most of their time is spent waiting (containers,
//    report intervals, child processes): measured on 2 cores, a serial run of them kept the CPU
//    idle about two thirds of the time.
// 2. One at a time, alone on the machine (EXCLUSIVE): the files that look at something every
//    agent on the machine shares (the engine's firewall helper containers, counted by label),
//    that exhaust the machine on purpose (hostile jobs), and those whose bounds leave little room
//    over what they measure (a 1 s job limit ended within 4 s, a re-adopted job's remainder
//    within 3.5 s, the GPU given back within 5 s). Beside other files those figures would
//    measure the neighbours. The firewall and egress tests stay in phase 1: each looks only at
//    its own bridge, chain, network and proxy port; so does the agent's own stop (5 s), measured
//    there at 69–672 ms.
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
  // counts the engine's firewall helper containers machine-wide (another agent's would be seen)
  'integration/sandbox/firewall-engine',
  // hostile jobs that exhaust the machine (forks, memory, disk), with time bounds on their ends
  'integration/sandbox/hostile',
  // bounds of a few seconds on a job's timing, a give-back, an answer among slow clients
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
        // Pure logic with temp folders: the files share a worker's modules (isolate: false), which
        // halves their CPU (63 → 30 s on 2 cores: each file no longer imports the runtime again).
        // Checked with the files shuffled; a file that changes module state must restore it.
        test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false, maxWorkers: WORKERS, sequence: { groupOrder: 0 } },
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
