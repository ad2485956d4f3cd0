/** Steps of `offshift demo serve` (serve.ts): the state it starts from, the demo buyer's GPU source, and what the buyer's reports change in demo.json. */
import fs from 'node:fs';
import path from 'node:path';
import { engineFeatures, type Engine } from '../engine/index.js';
import type { Logger } from '../log.js';
import type { RunningMarket } from '../../market/server.js';
import type { DemoBuyerOptions, DemoGpuSource } from './buyer.js';
import { demoProvider } from './gpu-jobs.js';
import { DEMO_DIR } from './paths.js';
import { readDemoState, type DemoState } from './state.js';

/** This process's state: nothing running yet, the counts and the owner carried on from demo.json. */
export function startingDemoState(home: string, inProcess: boolean): DemoState {
  const before = readDemoState(home);
  return {
    pid: process.pid,
    ownerPid: before?.ownerPid ?? null,
    guardPid: before?.guardPid ?? null,
    url: null,
    buyer: null,
    imageId: null,
    startedAt: Date.now(),
    jobsSubmitted: before?.jobsSubmitted ?? 0,
    problem: null,
    lastProblem: before?.lastProblem ?? null,
    inProcess,
    gpuJobsSubmitted: before?.gpuJobsSubmitted ?? 0,
    jobs: null,
  };
}

/** The data folder's demo folder, made if missing (an existing one is used as it is). */
export function makeDemoFolder(home: string): void {
  try {
    fs.mkdirSync(path.join(home, DEMO_DIR), { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * GPU jobs too where the provider can run them (gpu-jobs.ts): its GPUs from its advertisement
 * on this market, the NVIDIA runtime from the engine the demo's images are made on (the agent
 * runs them by their local id, so it uses that engine too).
 */
export async function demoGpuSource(docker: Engine, running: Pick<RunningMarket, 'market'>, env: NodeJS.ProcessEnv, log: Logger): Promise<DemoGpuSource> {
  const gpuImage = await import('./gpu-image.js');
  return {
    facts: async () => {
      let nvidiaRuntime: boolean | null = null;
      let engineError: string | null = null;
      try {
        nvidiaRuntime = (await engineFeatures(docker)).nvidiaRuntime;
      } catch (error) {
        engineError = (error as Error).message;
      }
      return { provider: demoProvider(running.market.providersView()), nvidiaRuntime, engineError, programBuilt: gpuImage.findDemoGpuBinary(env) !== null };
    },
    image: async () => (await gpuImage.ensureDemoGpuImage(docker, { env, log })).imageId,
    job: (jobId) => running.market.jobsView(20).find((j) => j.jobId === jobId) ?? null,
    pricePerHour: gpuImage.DEMO_GPU_PRICE_PER_HOUR,
    request: gpuImage.demoGpuJobRequest,
  };
}

/** The demo buyer's reports, written to demo.json as they come. */
export function buyerReports(state: DemoState, save: () => void): Pick<DemoBuyerOptions, 'onSubmitted' | 'onJobs' | 'onProblem'> {
  return {
    onSubmitted: (n, kind) => {
      state.jobsSubmitted = n;
      if (kind === 'gpu') state.gpuJobsSubmitted += 1;
      state.problem = null;
      save();
    },
    onJobs: (jobs) => {
      state.jobs = jobs;
      save();
    },
    onProblem: (message) => {
      state.problem = message;
      state.lastProblem = { message, at: new Date().toISOString() };
      save();
    },
  };
}
