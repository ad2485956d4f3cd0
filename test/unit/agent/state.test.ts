import { describe, expect, it } from 'vitest';
import { AgentStateMachine, deriveState, initialStateInputs, type StateInputs } from '../../../runtime/agent/state.js';
import type { AgentState } from '../../../runtime/agent/schema.js';

const started: StateInputs = { ...initialStateInputs, started: true, gpuCount: 1 };

describe('the agent state and its reason', () => {
  it('is starting until the agent has started', () => {
    expect(deriveState(initialStateInputs)).toMatchObject({ state: 'starting', reason: 'starting' });
  });

  it('is not in error without a GPU: available for CPU jobs, working while one runs, and says what to do for GPU jobs', () => {
    const idle = deriveState({ ...started, gpuCount: 0 });
    expect(idle).toMatchObject({ state: 'available', reason: 'no-gpu' });
    expect(idle.detail).toMatch(/jobs that need no GPU/);
    expect(idle.detail).toMatch(/install your GPU driver/);
    const earning = deriveState({ ...started, gpuCount: 0, runningJobs: 1 });
    expect(earning).toMatchObject({ state: 'working', reason: 'cpu-jobs-running' });
    expect(earning.detail).toMatch(/1 job running on the CPU \(no GPU found/);
    // The owner's pause and the schedule apply to CPU jobs as well.
    expect(deriveState({ ...started, gpuCount: 0, manualPause: { detail: 'Paused by you.' } })).toMatchObject({ state: 'paused', reason: 'manual-pause' });
  });

  it('never flips to error between two CPU jobs (the tray and the header would say "error: no GPU" while it earns)', () => {
    const seen: AgentState[] = [];
    const machine = new AgentStateMachine((s) => seen.push(s));
    machine.update({ started: true, gpuCount: 0 });
    for (const runningJobs of [1, 0, 1, 0]) machine.update({ runningJobs });
    expect(seen.map((s) => s.state)).toEqual(['available', 'working', 'available', 'working', 'available']);
  });

  it('puts a fatal condition before everything else once started', () => {
    const s = deriveState({ ...started, gpuCount: 0, fatal: { reason: 'docker-unreachable', detail: 'Docker is not running.' }, runningJobs: 2 });
    expect(s).toEqual({ state: 'error', reason: 'docker-unreachable', detail: 'Docker is not running.' });
  });

  it("puts the owner's pause before the availability decision and running jobs", () => {
    const s = deriveState({ ...started, manualPause: { detail: 'Paused by you until 18:00.' }, availability: { run: false, reason: 'too-hot', detail: 'Paused: hot.' }, runningJobs: 1 });
    expect(s).toMatchObject({ state: 'paused', reason: 'manual-pause', detail: 'Paused by you until 18:00.' });
  });

  it('shows the availability decision in plain words when work may not run', () => {
    expect(deriveState({ ...started, availability: { run: false, reason: 'exclusive-app', detail: 'Paused: cs2.exe is running.' }, runningJobs: 1 })).toEqual({
      state: 'paused',
      reason: 'exclusive-app',
      detail: 'Paused: cs2.exe is running.',
    });
  });

  it('is working while jobs run, and available otherwise with the decision’s own words', () => {
    expect(deriveState({ ...started, availability: { run: true, reason: 'ok', detail: 'Available: waiting for work.' }, runningJobs: 2 })).toMatchObject({ state: 'working', detail: 'Working: 2 jobs running.' });
    expect(deriveState({ ...started, availability: { run: true, reason: 'ok', detail: 'Available: no idle source: schedule only.' } })).toEqual({
      state: 'available',
      reason: 'ok',
      detail: 'Available: no idle source: schedule only.',
    });
  });

  it('emits only when the state or its reason changes', () => {
    const seen: AgentState[] = [];
    const machine = new AgentStateMachine((s) => seen.push(s));
    machine.update({ started: true, gpuCount: 1 });
    machine.update({ gpuCount: 2 });
    machine.update({ runningJobs: 1 });
    machine.update({ runningJobs: 1 });
    expect(seen.map((s) => s.state)).toEqual(['available', 'working']);
    expect(machine.value.state).toBe('working');
  });
});
