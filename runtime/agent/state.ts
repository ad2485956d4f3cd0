import type { AgentState, AgentStateName, StateInputs } from './schema.js';

/** What the agent's state is derived from (declared with the schema), and its precedence. */
export type { StateInputs } from './schema.js';

export const initialStateInputs: StateInputs = {
  started: false,
  fatal: null,
  gpuCount: 0,
  availability: null,
  manualPause: null,
  runningJobs: 0,
};

/** What a machine without a GPU can do, and what to do to take GPU jobs too. */
export const NO_GPU_DETAIL =
  'No GPU found: install your GPU driver (nvidia-smi or rocm-smi must work), then restart Offshift to take GPU jobs too. See the System check page.';

/**
 * The agent's one state and its reason. Precedence: not started yet → a fatal condition → the
 * owner's pause → the availability decision → running jobs → available. A machine without a GPU
 * is not in error: it runs (and earns from) jobs that need no GPU, and says so with the GPU's
 * absence and what to do about it.
 */
export function deriveState(inputs: StateInputs): { state: AgentStateName; reason: string; detail: string } {
  if (!inputs.started) return { state: 'starting', reason: 'starting', detail: 'Starting: looking for GPUs and checking the system.' };
  if (inputs.fatal) return { state: 'error', reason: inputs.fatal.reason, detail: inputs.fatal.detail };
  if (inputs.manualPause) return { state: 'paused', reason: 'manual-pause', detail: inputs.manualPause.detail };
  if (inputs.availability && !inputs.availability.run) {
    return { state: 'paused', reason: inputs.availability.reason, detail: inputs.availability.detail };
  }
  const jobs = `${inputs.runningJobs} job${inputs.runningJobs === 1 ? '' : 's'}`;
  if (inputs.gpuCount === 0) {
    if (inputs.runningJobs > 0) return { state: 'working', reason: 'cpu-jobs-running', detail: `Working: ${jobs} running on the CPU (no GPU found; jobs that need no GPU run and earn).` };
    return { state: 'available', reason: 'no-gpu', detail: `Available for jobs that need no GPU (CPU only). ${NO_GPU_DETAIL}` };
  }
  if (inputs.runningJobs > 0) return { state: 'working', reason: 'jobs-running', detail: `Working: ${jobs} running.` };
  return { state: 'available', reason: inputs.availability?.reason ?? 'ok', detail: inputs.availability?.detail ?? 'Available: waiting for work.' };
}

/** Holds the inputs and emits only when the derived state changes. */
export class AgentStateMachine {
  private inputs: StateInputs = { ...initialStateInputs };
  private current: AgentState;

  constructor(
    private readonly onChange: (state: AgentState) => void,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.current = { ...deriveState(this.inputs), since: this.now().toISOString() };
  }

  get value(): AgentState {
    return this.current;
  }

  get snapshot(): Readonly<StateInputs> {
    return this.inputs;
  }

  update(patch: Partial<StateInputs>): void {
    this.inputs = { ...this.inputs, ...patch };
    const next = deriveState(this.inputs);
    if (next.state === this.current.state && next.reason === this.current.reason && next.detail === this.current.detail) return;
    this.current = { ...next, since: this.now().toISOString() };
    this.onChange(this.current);
  }
}
