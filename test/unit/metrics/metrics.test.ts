/** The pure parts of the metrics: the text format, the families' names and labels, the DCGM subset, the reclaim measure, the token. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dcgmFamilies } from '../../../runtime/metrics/dcgm.js';
import { render } from '../../../runtime/metrics/exposition.js';
import { agentFamilies } from '../../../runtime/metrics/families.js';
import { parseListen } from '../../../runtime/metrics/listener.js';
import { ReclaimWatch } from '../../../runtime/metrics/reclaim.js';
import { defaultMetricsSettings, metricsSettingsSchema } from '../../../runtime/metrics/schema.js';
import { toTokens, type MetricsSnapshot } from '../../../runtime/metrics/snapshot.js';
import { bearerMatches, ensureToken, tokenPath } from '../../../runtime/metrics/token.js';
import { makeTempDir } from '../../helpers/temp-home.js';

const snapshot: MetricsSnapshot = {
  version: '1.2.3',
  platform: 'linux',
  hostname: 'rig-"7"',
  startedAtSeconds: 1_700_000_000,
  state: { state: 'paused', reason: 'user-active' },
  ownerActive: true,
  gpuLeased: false,
  runningJobs: 0,
  gpus: [{ index: 0, uuid: 'GPU-abc', model: 'RTX 4090', pciBusId: null, utilizationPct: 42, temperatureC: 61, powerW: 250.5, memoryUsedBytes: 2 * 1048576, memoryTotalBytes: 24 * 1073741824 }],
  jobsByOutcome: { succeeded: 3 },
  earnings: { symbol: 'USDC', earnedTokens: 1.5, todayTokens: 0.5, redeemableTokens: 1, redeemedTokens: 0.5, voucherErrors: 2 },
  market: { network: 'real', state: 'connected' },
  policy: { source: 'file', version: 'sha256:0123' },
  images: { usedBytes: 10, budgetBytes: 20, count: 1 },
};

describe('metrics families', () => {
  const text = render(agentFamilies(snapshot));

  it('names the state and its reason, counts jobs by outcome, and never labels by job id', () => {
    expect(text).toContain('offshift_state{state="paused",reason="user-active"} 1');
    expect(text).toContain('offshift_state{state="working",reason=""} 0');
    expect(text).toContain('offshift_owner_active 1');
    expect(text).toContain('offshift_jobs_total{outcome="succeeded"} 3');
    expect(text).toContain('offshift_jobs_total{outcome="preempted"} 0');
    expect(text).toContain('# TYPE offshift_jobs_total counter');
    expect(text).toContain('offshift_policy_info{source="file",version="sha256:0123"} 1');
    expect(text).toContain('offshift_gpu_utilization_ratio{gpu="0",uuid="GPU-abc",model="RTX 4090"} 0.42');
    expect(text).toContain('offshift_earnings_received_tokens{token="USDC"} 1.5');
    expect(text).toContain('offshift_voucher_errors_total 2');
    expect(text).toContain('offshift_image_cache_budget_bytes 20');
    expect(text).not.toMatch(/job_?id/i);
  });

  it('escapes label values', () => {
    expect(text).toContain('hostname="rig-\\"7\\""');
  });

  it('leaves earnings out where there is no ledger', () => {
    expect(render(agentFamilies({ ...snapshot, earnings: null }))).not.toContain('offshift_earnings');
  });

  it('gives the DCGM exporter\'s names, labels and units', () => {
    const dcgm = render(dcgmFamilies(snapshot));
    expect(dcgm).toContain('DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-abc",device="nvidia0",modelName="RTX 4090",Hostname="rig-\\"7\\""} 42');
    expect(dcgm).toContain('DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-abc",device="nvidia0",modelName="RTX 4090",Hostname="rig-\\"7\\""} 2');
  });
});

describe('reclaim latency', () => {
  it('measures from the decision to stop to no job running, and drops a measure a resume cut short', () => {
    let t = 0;
    const w = new ReclaimWatch(() => t);
    w.check({ availability: { run: true }, manualPause: null, runningJobs: 1 });
    w.check({ availability: { run: false }, manualPause: null, runningJobs: 1 });
    t = 1500;
    w.check({ availability: { run: false }, manualPause: null, runningJobs: 0 });
    w.check({ availability: { run: true }, manualPause: null, runningJobs: 1 });
    w.check({ availability: { run: false }, manualPause: null, runningJobs: 1 });
    w.check({ availability: { run: true }, manualPause: null, runningJobs: 1 });
    const text = render([w.histogram.family()]);
    expect(text).toContain('offshift_reclaim_latency_seconds_bucket{le="1"} 0');
    expect(text).toContain('offshift_reclaim_latency_seconds_bucket{le="2"} 1');
    expect(text).toContain('offshift_reclaim_latency_seconds_sum 1.5');
    expect(text).toContain('offshift_reclaim_latency_seconds_count 1');
  });
});

describe('settings, listener address and token', () => {
  it('serves nothing by default', () => {
    expect(defaultMetricsSettings).toEqual({ listen: null, textfile: null, dcgmCompat: false });
    expect(metricsSettingsSchema.safeParse({ ...defaultMetricsSettings, listen: '9464' }).success).toBe(false);
    expect(parseListen('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
  });

  it('makes the token once, 0600, and compares it whole', () => {
    const home = makeTempDir('offshift-metrics-token-');
    const token = ensureToken(home);
    expect(ensureToken(home)).toBe(token);
    expect(fs.statSync(tokenPath(home)).mode & 0o777).toBe(0o600);
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerMatches(`Bearer ${token.slice(1)}`, token)).toBe(false);
    expect(bearerMatches(undefined, token)).toBe(false);
    fs.rmSync(home, { recursive: true });
  });

  it('turns base units into tokens', () => {
    expect(toTokens(1_500_000_000_000_000_000n, 18)).toBe(1.5);
  });
});
