/** The Earnings page's state: the ledger's summary, the series by day, earnings per GPU and the job table, refreshed on wallet.update; and the CSV export. */
import { useCallback, useState } from 'react';
import type { CommandOutput } from '../../../runtime/api/contract.js';
import type { EarningRow, SeriesPoint } from '../../../runtime/ledger/schema.js';
import { useLiveRefresh } from '../components/useLiveRefresh.js';
import { client, message } from '../api/agent-call.js';

/** Days are in this computer's time zone. */
export const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

export type Summary = CommandOutput<'earnings.summary'>;
export type GpuEarnings = { gpuKey: string; earned: string; jobs: number };

export function useEarnings() {
  const [summary, setSummary] = useState<Summary | null>(null);
  const [points, setPoints] = useState<SeriesPoint[]>([]);
  const [gpus, setGpus] = useState<GpuEarnings[]>([]);
  const [jobs, setJobs] = useState<EarningRow[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [exporting, setExporting] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const c = client();
      const [s, series, byGpu, table] = await Promise.all([
        c.call('earnings.summary', { timeZone: timeZone() }),
        c.call('earnings.series', { unit: 'day', days: 30, timeZone: timeZone() }),
        c.call('earnings.byGpu', {}),
        c.call('earnings.jobs', { limit: 100, offset: 0 }),
      ]);
      setSummary(s);
      setPoints(series.points);
      setGpus(byGpu.gpus);
      setJobs(table.jobs);
      setError(null);
    } catch (e) {
      setError(message(e));
    }
  }, []);

  useLiveRefresh(refresh, 'wallet.update');

  async function exportCsv() {
    setExporting(true);
    try {
      const r = await client().call('earnings.exportCsv', { timeZone: timeZone() });
      const url = URL.createObjectURL(new Blob([r.csv], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = r.filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(message(e));
    } finally {
      setExporting(false);
    }
  }

  return { summary, points, gpus, jobs, error, exporting, exportCsv };
}
