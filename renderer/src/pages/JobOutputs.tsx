/**
 * What the Jobs page shows beside a job besides its log: the picture it left in its output
 * folder (a thumbnail in the list, larger in the job view, from jobs.outputs / jobs.outputFile).
 * For a marketplace job its buyer, price and earnings are in JobMarket.tsx.
 */
import { useEffect, useState } from 'react';
import type { CommandOutput } from '../../../runtime/api/contract.js';
import type { Job, JobOutputFile } from '../../../runtime/jobs/schema.js';
import { isFinalState } from '../../../runtime/jobs/schema.js';
import { firstImage, formatBytes } from '../lib/market.js';
import { useDashboard } from '../store/dashboard-store.js';
import { client } from '../api/agent-call.js';

type RetentionRemoval = NonNullable<CommandOutput<'jobs.outputs'>['removed']>;

/** What these parts read of a job: a full record or a jobs.list summary will do. */
export type JobLike = Pick<Job, 'id' | 'state' | 'endedAt' | 'marketJobId'>;

/** Output folders are collected a moment after a job ends: an empty answer this soon is asked again. */
const SETTLE_MS = 15_000;
const THUMB_WIDTH = 160;
const MAX_THUMBS = 100;

/** Job id → its outputs once known for good. */
const outputsCache = new Map<string, JobOutputFile[]>();
/** Job id → when and why retention removed its output folder and log. */
const removedCache = new Map<string, RetentionRemoval>();
/** Job id → a small JPEG data URL of its picture, or null for none. */
const thumbCache = new Map<string, string | null>();
/** One picture at a time: each is a few MiB over the socket. */
let queue: Promise<unknown> = Promise.resolve();

async function loadOutputs(job: JobLike): Promise<JobOutputFile[]> {
  const cached = outputsCache.get(job.id);
  if (cached) return cached;
  const r = await client().call('jobs.outputs', { id: job.id });
  const settled = job.endedAt !== null && Date.now() - job.endedAt > SETTLE_MS;
  if (r.removed) removedCache.set(job.id, r.removed);
  if (r.files.length > 0 || settled || r.removed) outputsCache.set(job.id, r.files);
  return r.files;
}

async function makeThumb(dataUrl: string): Promise<string> {
  const img = new Image();
  img.src = dataUrl;
  await img.decode();
  const scale = Math.min(1, THUMB_WIDTH / img.naturalWidth);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
  canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
  canvas.getContext('2d')?.drawImage(img, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', 0.85);
}

function loadThumb(job: JobLike): Promise<string | null> {
  if (thumbCache.has(job.id)) return Promise.resolve(thumbCache.get(job.id)!);
  const work = queue.then(async () => {
    if (thumbCache.has(job.id)) return thumbCache.get(job.id)!;
    const image = firstImage(await loadOutputs(job));
    if (!image) {
      if (outputsCache.has(job.id)) thumbCache.set(job.id, null);
      return null;
    }
    const file = await client().call('jobs.outputFile', { id: job.id, path: image.path });
    const thumb = await makeThumb(file.dataUrl);
    if (thumbCache.size >= MAX_THUMBS) thumbCache.delete(thumbCache.keys().next().value!);
    thumbCache.set(job.id, thumb);
    return thumb;
  });
  queue = work.catch(() => null);
  return work;
}

/** The job's picture, small, in the jobs list (nothing while it runs or when it left none). */
export function JobThumb({ job }: { job: JobLike }) {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [thumb, setThumb] = useState<string | null>(() => thumbCache.get(job.id) ?? null);
  const final = isFinalState(job.state);
  useEffect(() => {
    if (!final || !connected) return;
    let live = true;
    let retry: ReturnType<typeof setTimeout> | null = null;
    const attempt = () =>
      loadThumb(job).then(
        (t) => {
          if (!live) return;
          setThumb(t);
          if (t === null && !thumbCache.has(job.id)) retry = setTimeout(attempt, 3000);
        },
        () => {},
      );
    void attempt();
    return () => {
      live = false;
      if (retry) clearTimeout(retry);
    };
  }, [job.id, final, connected]);
  if (!thumb) return <span className="job-thumb job-thumb-empty" aria-hidden="true" />;
  return <img className="job-thumb" src={thumb} alt={`What job ${job.id.slice(0, 8)} made`} data-testid="job-thumb" />;
}

/** The job's picture, large, and the files in its output folder (in the job view). */
export function JobPicture({ job }: { job: JobLike }) {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [files, setFiles] = useState<JobOutputFile[] | null>(null);
  const [picture, setPicture] = useState<{ path: string; dataUrl: string } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const final = isFinalState(job.state);
  useEffect(() => {
    setFiles(null);
    setPicture(null);
    setProblem(null);
    if (!final || !connected) return;
    let live = true;
    let retry: ReturnType<typeof setTimeout> | null = null;
    const attempt = async () => {
      try {
        const list = await loadOutputs(job);
        if (!live) return;
        setFiles(list);
        if (list.length === 0 && !outputsCache.has(job.id)) retry = setTimeout(() => void attempt(), 3000);
        const image = firstImage(list);
        if (!image) return;
        const file = await client().call('jobs.outputFile', { id: job.id, path: image.path });
        if (live) setPicture({ path: file.path, dataUrl: file.dataUrl });
      } catch (e) {
        if (live) setProblem(e instanceof Error ? e.message : String(e));
      }
    };
    void attempt();
    return () => {
      live = false;
      if (retry) clearTimeout(retry);
    };
  }, [job.id, final, connected]);
  if (!final) return null;
  return (
    <div className="job-outputs" data-testid="job-outputs">
      {picture ? (
        <figure className="job-picture">
          <img src={picture.dataUrl} alt={`${picture.path}, made by job ${job.id.slice(0, 8)}`} data-testid="job-output-image" data-path={picture.path} />
          <figcaption className="muted small">{picture.path}</figcaption>
        </figure>
      ) : null}
      {problem ? <p className="muted small">The picture could not be shown: {problem}</p> : null}
      {files && files.length > 0 ? (
        <details className="job-files">
          <summary className="muted small">
            Output folder: {files.length} file{files.length === 1 ? '' : 's'}
          </summary>
          <ul className="small">
            {files.map((f) => (
              <li key={f.path}>
                <span className="mono">{f.path}</span> <span className="muted">({formatBytes(f.sizeBytes)}, {f.mimeType})</span>
              </li>
            ))}
          </ul>
        </details>
      ) : files && removedCache.has(job.id) ? (
        <RemovedNote removal={removedCache.get(job.id)!} />
      ) : files ? (
        <p className="muted small">No output files.</p>
      ) : null}
    </div>
  );
}

function RemovedNote({ removal }: { removal: RetentionRemoval }) {
  const why = removal.rule === 'age' ? 'it was older than the days they are kept' : 'all outputs together were over the size they may use';
  return (
    <p className="muted small" data-testid="job-output-removed">
      The output files and the full log ({formatBytes(removal.bytes)}) were removed on {new Date(removal.at).toLocaleString()} by the retention rule: {why}. The job&apos;s record and
      its last log lines are kept. Settings → Job outputs and logs sets how long outputs are kept.
    </p>
  );
}
