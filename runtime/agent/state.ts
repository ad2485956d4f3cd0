import type { AgentState, AgentStateName } from './schema.js';

/** What the agent's state is derived from. Capabilities add inputs; precedence lives here. */
export interface StateInputs {
  started: boolean;
  /** A condition that stops all work, with its reason (e.g. `docker-unreachable`). */
  fatal: { reason: string; detail: string } | null;
  gpuCount: number;
  /** The availability decision (schedule, idle, games, heat…); null before the first one. */
  availability: { run: boolean; reason: string; detail: string } | null;
  /** A pause the owner asked for. */
  manualPause: { detail: string } | null;
  runningJobs: number;
}

export const initialStateInputs: StateInputs = {
  started: false,
  fatal: null,
  gpuCount: 0,
  availability: null,
  manualPause: null,
  runningJobs: 0,
};

/**
 * The agent's one state and its reason. Precedence: not started yet → a fatal condition →
 * no GPU → the owner's pause → the availability decision → running jobs → available.
 */
export function deriveState(inputs: StateInputs): { state: AgentStateName; reason: string; detail: string } {
  if (!inputs.started) return { state: 'starting', reason: 'starting', detail: 'Starting: looking for GPUs and checking the system.' };
  if (inputs.fatal) return { state: 'error', reason: inputs.fatal.reason, detail: inputs.fatal.detail };
  if (inputs.gpuCount === 0 && inputs.runningJobs > 0) {
    return { state: 'working', reason: 'jobs-running', detail: `Working: ${inputs.runningJobs} CPU-only job${inputs.runningJobs === 1 ? '' : 's'} running (no GPU found).` };
  }
  if (inputs.gpuCount === 0) {
    return {
      state: 'error',
      reason: 'no-gpu',
      detail: 'No GPU found: install your GPU driver (nvidia-smi or rocm-smi must work), then restart Offshift. See the System check page.',
    };
  }
  if (inputs.manualPause) return { state: 'paused', reason: 'manual-pause', detail: inputs.manualPause.detail };
  if (inputs.availability && !inputs.availability.run) {
    return { state: 'paused', reason: inputs.availability.reason, detail: inputs.availability.detail };
  }
  if (inputs.runningJobs > 0) {
    return { state: 'working', reason: 'jobs-running', detail: `Working: ${inputs.runningJobs} job${inputs.runningJobs === 1 ? '' : 's'} running.` };
  }
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
