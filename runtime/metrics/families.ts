/**
 * The offshift_* metric families from one snapshot. Names follow Prometheus' conventions: the
 * offshift_ prefix, base units (seconds, bytes), _total on counters, _info for labels-only facts.
 * No job id is ever a label: a label per job would grow the series without bound. Pure.
 */
import type { Family } from './exposition.js';
import type { MetricsSnapshot } from './snapshot.js';

/** Every state the agent can be in, each exported (0 or 1) so that a panel never has gaps. */
export const AGENT_STATES = ['starting', 'available', 'working', 'paused', 'error'] as const;
/** The final job states, each exported from 0 so that rate() sees the first job. */
export const JOB_OUTCOMES = ['succeeded', 'failed', 'cancelled', 'timed-out', 'preempted'] as const;
export const MARKET_STATES = ['off', 'starting-demo', 'wallet-locked', 'connecting', 'signing-in', 'connected', 'retrying', 'refused'] as const;

const gauge = (name: string, help: string, value: number, labels?: Record<string, string>): Family => ({ name, help, type: 'gauge', samples: [{ labels, value }] });
const bool = (b: boolean) => (b ? 1 : 0);

export function agentFamilies(s: MetricsSnapshot): Family[] {
  const gpuLabels = (g: MetricsSnapshot['gpus'][number]) => ({ gpu: String(g.index), uuid: g.uuid, model: g.model });
  const perGpu = (name: string, help: string, pick: (g: MetricsSnapshot['gpus'][number]) => number | null): Family => ({
    name,
    help,
    type: 'gauge',
    samples: s.gpus.flatMap((g) => {
      const v = pick(g);
      return v === null ? [] : [{ labels: gpuLabels(g), value: v }];
    }),
  });
  const states = new Set<string>(AGENT_STATES);
  const families: Family[] = [
    { name: 'offshift_agent_info', help: 'The agent: its version and platform (always 1).', type: 'info', samples: [{ labels: { version: s.version, platform: s.platform, hostname: s.hostname }, value: 1 }] },
    gauge('offshift_agent_start_time_seconds', 'When the agent started, in Unix seconds.', s.startedAtSeconds),
    {
      name: 'offshift_state',
      help: "The agent's state (1 for the current one) and its reason (e.g. user-active, snoozed, jobs-running).",
      type: 'gauge',
      samples: [...AGENT_STATES, ...(states.has(s.state.state) ? [] : [s.state.state])].map((st) => ({
        labels: { state: st, reason: st === s.state.state ? s.state.reason : '' },
        value: bool(st === s.state.state),
      })),
    },
    gauge('offshift_owner_active', 'Whether the owner uses the computer now (input, an exclusive app or their own GPU use): the GPU is not lent.', bool(s.ownerActive)),
    gauge('offshift_gpu_leased', 'Whether a job holds the GPUs now.', bool(s.gpuLeased)),
    gauge('offshift_jobs_running', 'Jobs running now.', s.runningJobs),
    gauge('offshift_gpus', 'GPUs found on this machine.', s.gpus.length),
    {
      name: 'offshift_jobs_total',
      help: 'Jobs that ended since the agent started, by outcome (their final state).',
      type: 'counter',
      samples: [...new Set([...JOB_OUTCOMES, ...Object.keys(s.jobsByOutcome)])].map((outcome) => ({ labels: { outcome }, value: s.jobsByOutcome[outcome] ?? 0 })),
    },
    {
      name: 'offshift_market_connection_state',
      help: 'The market link (1 for the current state), and its network (demo, real or off).',
      type: 'gauge',
      samples: [...new Set<string>([...MARKET_STATES, s.market.state])].map((state) => ({ labels: { state, network: s.market.network }, value: bool(state === s.market.state) })),
    },
    gauge('offshift_market_connected', 'Whether the market link is connected.', bool(s.market.state === 'connected')),
    { name: 'offshift_policy_info', help: 'The admin policy in force: its source (none, file, url, invalid) and version (1).', type: 'info', samples: [{ labels: s.policy, value: 1 }] },
    perGpu('offshift_gpu_utilization_ratio', 'GPU utilisation, 0 to 1.', (g) => (g.utilizationPct === null ? null : g.utilizationPct / 100)),
    perGpu('offshift_gpu_temperature_celsius', 'GPU temperature.', (g) => g.temperatureC),
    perGpu('offshift_gpu_power_watts', 'GPU power draw.', (g) => g.powerW),
    perGpu('offshift_gpu_memory_used_bytes', 'GPU memory in use.', (g) => g.memoryUsedBytes),
    perGpu('offshift_gpu_memory_total_bytes', 'GPU memory in all.', (g) => g.memoryTotalBytes),
  ];
  if (s.earnings) {
    const e = s.earnings;
    const token = { token: e.symbol };
    families.push(
      gauge('offshift_earnings_received_tokens', 'Earned all time (vouched, redeemed or not), in tokens (float of the exact base-unit amount).', e.earnedTokens, token),
      gauge('offshift_earnings_today_tokens', "Earned today (the agent's local day), in tokens.", e.todayTokens, token),
      gauge('offshift_earnings_redeemable_tokens', 'Covered by a voucher not yet redeemed, in tokens.', e.redeemableTokens, token),
      gauge('offshift_earnings_redeemed_tokens', 'Redeemed on chain, in tokens.', e.redeemedTokens, token),
      { name: 'offshift_voucher_errors_total', help: 'Vouchers refused (bad signature, over the deposit, wrong channel…), all time.', type: 'counter', samples: [{ value: e.voucherErrors }] },
    );
  }
  if (s.images) {
    families.push(
      gauge('offshift_image_cache_bytes', "Offshift's pulled images on disk, together.", s.images.usedBytes),
      gauge('offshift_image_cache_budget_bytes', "The budget Offshift's images stay under.", s.images.budgetBytes),
      gauge('offshift_image_cache_images', "Offshift's pulled images.", s.images.count),
    );
  }
  return families;
}
