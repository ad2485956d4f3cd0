import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../runtime/cli.js';
import { describeStatus } from '../../../runtime/cli/commands/market-status.js';
import type { MarketStatus } from '../../../runtime/market/schema.js';
import { defaultMarketSettings } from '../../../runtime/market/settings.js';
import { makeTempHome } from '../../helpers/temp-home.js';

const NOW = Date.parse('2026-12-05T08:00:00Z');
const TOKEN = 10n ** 18n;

const base: MarketStatus = {
  network: 'real',
  url: 'wss://market.example.com',
  state: 'retrying',
  reason: 'The market does not answer (connection refused). Retrying; check the address in Marketplace settings.',
  since: NOW - 60_000,
  nextRetryAt: NOW + 12_000,
  address: '0x33172c0ac13820ae3E0Cf750150f057218943263',
  settings: { ...defaultMarketSettings, url: 'wss://market.example.com' },
  locked: [],
  suggestedPricePerGpuHour: null,
  suggestionBasis: null,
  offers: [],
  jobs: [],
  tokenSymbol: 'OFT',
  tokenDecimals: 18,
  demoJobs: null,
};

describe('offshift market status', () => {
  let temp: ReturnType<typeof makeTempHome> | undefined;
  afterEach(() => temp?.cleanup());

  it('says why a link is down, when it tries again, and that nothing runs', () => {
    const text = describeStatus(base, NOW);
    expect(text).toMatch(/^Market: +wss:\/\/market\.example\.com\nState: +retrying, since .+\nWhy: +The market does not answer .+Retrying; check the address/);
    expect(text).toContain('Retry:    in 12 s');
    expect(text).toContain('Signs in: 0x33172c0ac13820ae3E0Cf750150f057218943263');
    expect(text).toContain('Running:  no marketplace job.');
    expect(text).not.toContain('Latest offers');
  });

  it('lists the jobs running with what is due and paid, and the newest offers with their decisions', () => {
    const offer = (i: number, accepted: boolean) => ({
      offerId: `o${i}`,
      jobId: `job-${i}`,
      at: NOW - i * 1000,
      buyer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      image: 'sha256:' + 'ab'.repeat(32),
      gpus: 1,
      pricePerHour: (18n * TOKEN).toString(),
      maxDurationSeconds: 120,
      accepted,
      reason: accepted ? null : ('price-below-floor' as const),
      detail: accepted ? 'Accepted: 18 OFT an hour, up to 2 min.' : 'Declined: the price is below your floor.',
    });
    const text = describeStatus(
      {
        ...base,
        network: 'demo',
        url: 'ws://127.0.0.1:40000',
        state: 'connected',
        reason: 'Connected to the market.',
        nextRetryAt: null,
        demoJobs: { gpu: false, reason: 'No NVIDIA GPU was found on this computer.' },
        jobs: [{ jobId: 'job-1', localJobId: 'm-job-1', buyer: base.address!, pricePerHour: (18n * TOKEN).toString(), reportIntervalSeconds: 5, state: 'running', startedAt: NOW - 10_000, usageSeconds: 10, amountDue: '50000000000000000', paidUpTo: '25000000000000000', lastVoucherAt: null } as MarketStatus['jobs'][number]],
        offers: Array.from({ length: 7 }, (_, i) => offer(i + 1, i !== 1)),
      },
      NOW,
    );
    expect(text).toMatch(/^Market: +the demo network on this computer \(test tokens\), ws:\/\/127\.0\.0\.1:40000\n/);
    expect(text).toContain('Demo:     CPU jobs only: No NVIDIA GPU was found on this computer.');
    expect(text).not.toContain('Retry:');
    expect(text).toMatch(/Running: +1 marketplace job\(s\)\nJOB +STATE +PRICE\/H +RUN +DUE +PAID\n.+\njob-1 +running +18 OFT +10 s +0\.05 OFT +0\.025 OFT/);
    expect(text).toContain('Latest offers (5 of 7 kept):');
    expect(text).toContain('Declined: the price is below your floor.');
    expect(text).not.toContain('job-6');
  });

  it('with no agent running, says so and which market one would join', async () => {
    temp = makeTempHome('offshift-market-status-');
    let stdout = '';
    const code = await runCli(['market', 'status'], { env: { OFFSHIFT_HOME: temp.home }, stdout: (t) => void (stdout += t), stderr: () => {} });
    expect(code).toBe(0);
    expect(stdout).toBe('No agent is running here, so nothing is connected. Start one with `offshift agent` (or open the desktop app): it will join the demo network on this computer (test tokens).\n');
    let json = '';
    await runCli(['market', 'status', '--json'], { env: { OFFSHIFT_HOME: temp.home }, stdout: (t) => void (json += t), stderr: () => {} });
    expect(JSON.parse(json)).toMatchObject({ agent: false, settings: { enabled: true, url: null } });
  });

  it('with no agent and a settings file that cannot be read, says so and that the defaults apply', async () => {
    temp = makeTempHome('offshift-market-status-');
    fs.writeFileSync(path.join(temp.home, 'settings.json'), JSON.stringify({ market: { url: 42 } }));
    let stdout = '';
    expect(await runCli(['market', 'status'], { env: { OFFSHIFT_HOME: temp.home }, stdout: (t) => void (stdout += t), stderr: () => {} })).toBe(0);
    expect(stdout).toContain(`Your settings file ${path.join(temp.home, 'settings.json')} is invalid (market.url: `);
    expect(stdout).toContain('the defaults apply');
  });
});

