/**
 * The fleet as Prometheus sees it: every machine that reported in the last day, its state and
 * reason, GPUs, earnings today, policy version and last scrape. Machines are told apart by the
 * scrape's instance label. Read only: Offshift runs no fleet server.
 */
import { queryVector, type VectorSample } from './prometheus-api.js';

export interface FleetMachine {
  instance: string;
  job: string;
  hostname: string | null;
  version: string | null;
  /** Whether the last scrape worked. */
  up: boolean;
  state: string | null;
  reason: string | null;
  gpus: number | null;
  earningsTodayTokens: number | null;
  policyVersion: string | null;
  policySource: string | null;
  /** When Prometheus last scraped it, ISO 8601 (null: no scrape in its memory). */
  lastScrape: string | null;
}

/** The queries, by what they give. Exported for the test that runs them. */
export const FLEET_QUERIES = {
  seen: 'last_over_time(offshift_agent_info[1d])',
  up: 'up and on(instance, job) last_over_time(offshift_agent_info[1d])',
  lastScrape: 'timestamp(up) and on(instance, job) last_over_time(offshift_agent_info[1d])',
  state: 'offshift_state == 1',
  gpus: 'offshift_gpus',
  earningsToday: 'offshift_earnings_today_tokens',
  policy: 'offshift_policy_info',
} as const;

export async function fleetStatus(prometheusUrl: string): Promise<FleetMachine[]> {
  const entries = Object.entries(FLEET_QUERIES) as Array<[keyof typeof FLEET_QUERIES, string]>;
  const results = Object.fromEntries(await Promise.all(entries.map(async ([k, q]) => [k, await queryVector(prometheusUrl, q)] as const))) as Record<keyof typeof FLEET_QUERIES, VectorSample[]>;
  const machines = new Map<string, FleetMachine>();
  const key = (m: Record<string, string>) => `${m.job ?? ''}\u0000${m.instance ?? ''}`;
  for (const s of results.seen) {
    machines.set(key(s.metric), {
      instance: s.metric.instance ?? '',
      job: s.metric.job ?? '',
      hostname: s.metric.hostname ?? null,
      version: s.metric.version ?? null,
      up: false,
      state: null,
      reason: null,
      gpus: null,
      earningsTodayTokens: null,
      policyVersion: null,
      policySource: null,
      lastScrape: null,
    });
  }
  const each = (samples: VectorSample[], fn: (m: FleetMachine, s: VectorSample) => void) => {
    for (const s of samples) {
      const m = machines.get(key(s.metric));
      if (m) fn(m, s);
    }
  };
  each(results.up, (m, s) => (m.up = s.value[1] === '1'));
  each(results.lastScrape, (m, s) => (m.lastScrape = new Date(Number(s.value[1]) * 1000).toISOString()));
  each(results.state, (m, s) => {
    m.state = s.metric.state ?? null;
    m.reason = s.metric.reason ?? null;
  });
  each(results.gpus, (m, s) => (m.gpus = Number(s.value[1])));
  each(results.earningsToday, (m, s) => (m.earningsTodayTokens = (m.earningsTodayTokens ?? 0) + Number(s.value[1])));
  each(results.policy, (m, s) => {
    m.policySource = s.metric.source ?? null;
    m.policyVersion = s.metric.version ?? null;
  });
  return [...machines.values()].sort((a, b) => (a.hostname ?? a.instance).localeCompare(b.hostname ?? b.instance) || a.instance.localeCompare(b.instance));
}
