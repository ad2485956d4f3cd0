/** The Jobs page's state: the job list with its live updates and paging, image pulls, the clock, and the selected job's live log. */
import { useEffect, useRef, useState } from 'react';
import type { JobProgressEvent, JobSummary } from '../../../runtime/jobs/schema.js';
import { appendLog, mergeJob } from '../lib/jobs.js';
import { client, message } from '../api/agent-call.js';

/** The selected job's log: what is shown, whether older text was cut off, and bytes the agent dropped. */
export interface JobLogView {
  text: string;
  trimmed: boolean;
  dropped: number;
}

/** Every job (jobs.list, paged), kept current by job.update; pulls by job.progress; a clock ticking each second. */
export function useJobsFeed(connected: boolean) {
  const [jobs, setJobs] = useState<JobSummary[]>([]);
  /** Where the next page of older jobs begins (jobs.list is paged), or null when all are shown. */
  const [nextOffset, setNextOffset] = useState<number | null>(null);
  const [outOfService, setOutOfService] = useState<{ gpuKey: string; reason: string }[]>([]);
  const [error, setError] = useState<string | null>(null);
  /** The latest image-pull progress per job, while it pulls. */
  const [pulls, setPulls] = useState<Record<string, JobProgressEvent>>({});
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (!connected) return;
    const c = client();
    c.call('jobs.list', { limit: 100 }).then(
      (r) => {
        setJobs(r.jobs);
        setNextOffset(r.nextOffset);
        setOutOfService(r.gpusOutOfService);
        setError(null);
      },
      (e: unknown) => setError(message(e)),
    );
    const offUpdate = c.on('job.update', (job) => setJobs((list) => mergeJob(list, job)));
    const offProgress = c.on('job.progress', (p) => setPulls((all) => ({ ...all, [p.id]: p })));
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      offUpdate();
      offProgress();
      clearInterval(tick);
    };
  }, [connected]);

  const loadOlder = (offset: number) =>
    client()
      .call('jobs.list', { limit: 100, offset })
      .then(
        (r) => {
          setJobs((list) => [...list, ...r.jobs.filter((j) => !list.some((k) => k.id === j.id))]);
          setNextOffset(r.nextOffset);
        },
        (e: unknown) => setError(message(e)),
      );
  const cancel = (id: string) => client().call('jobs.cancel', { id }).then(() => setError(null), (e: unknown) => setError(message(e)));

  return { jobs, nextOffset, outOfService, error, setError, pulls, now, loadOlder, cancel };
}

/**
 * The selected job's log: read with jobs.logs when selected, then followed by job.log (batched
 * into one state update per animation frame). The <pre> behind `logRef` follows the end while
 * the reader is there.
 */
export function useJobLog(selected: string | null, connected: boolean, setError: (text: string) => void) {
  const [log, setLog] = useState<JobLogView>({ text: '', trimmed: false, dropped: 0 });
  const selectedRef = useRef<string | null>(null);
  selectedRef.current = selected;
  const logRef = useRef<HTMLPreElement | null>(null);
  // Follow the log while the view is at its end; leave it where the reader scrolled otherwise.
  useEffect(() => {
    const el = logRef.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [log.text]);

  useEffect(() => {
    if (!connected) return;
    // Live lines are batched into one state update per animation frame.
    let pending = '';
    let frame: number | null = null;
    const offLog = client().on('job.log', (e) => {
      if (e.id !== selectedRef.current) return;
      pending += e.text;
      frame ??= requestAnimationFrame(() => {
        const text = pending;
        pending = '';
        frame = null;
        setLog((l) => {
          const next = appendLog(l.text, text);
          return { text: next.text, trimmed: l.trimmed || next.trimmed, dropped: l.dropped };
        });
      });
    });
    return () => {
      offLog();
      if (frame !== null) cancelAnimationFrame(frame);
    };
  }, [connected]);

  useEffect(() => {
    if (!selected || !connected) return;
    setLog({ text: '', trimmed: false, dropped: 0 });
    client()
      .call('jobs.logs', { id: selected })
      .then(
        (r) => setLog({ ...appendLog('', r.text), dropped: r.droppedBytes }),
        (e: unknown) => setError(message(e)),
      );
  }, [selected, connected]);

  return { log, logRef };
}
