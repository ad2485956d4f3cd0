/** The Images page's state: images.list polled while the page is visible, downloads' `job.progress` between polls, pin, prune and settings, and what failed. */
import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import { ApiError } from '../../../runtime/api/client.js';
import type { ImagePatch, ImageRecord, ImagesView } from '../../../runtime/images/schema.js';
import type { JobProgressEvent } from '../../../runtime/jobs/schema.js';
import { shortRepository } from '../lib/images.js';
import { useDashboard } from '../store/dashboard-store.js';
import { client } from '../api/agent-call.js';

/** How often the page asks again while it is visible: sizes, pulls and what jobs use change as jobs run. */
const POLL_MS = 3000;

/** The agent's message, and for an agent without the command, what to do about it. */
function describe(error: unknown): string {
  if (error instanceof ApiError && error.code === 'unknown-command') return `${error.message} The agent is older than this dashboard: update Offshift and restart the agent.`;
  return error instanceof Error ? error.message : String(error);
}

export interface ImagesError {
  title: string;
  text: string;
}

/** images.list now, then every POLL_MS while visible (and at once when the page shows again); the downloads' progress as it comes. */
function usePolledImages(setView: Dispatch<SetStateAction<ImagesView | null>>, setError: Dispatch<SetStateAction<ImagesError | null>>) {
  const connected = useDashboard((s) => s.connection.phase === 'connected');
  const [live, setLive] = useState<Record<string, JobProgressEvent>>({});
  const [now, setNow] = useState(() => Date.now());

  const load = useCallback(async () => {
    try {
      setView(await client().call('images.list', {}));
      setError((e) => (e?.title === "Could not read Offshift's images" ? null : e));
    } catch (e) {
      setError({ title: "Could not read Offshift's images", text: describe(e) });
    }
  }, [setView, setError]);

  useEffect(() => {
    if (!connected) return;
    void load();
    const visible = () => document.visibilityState === 'visible';
    const timer = setInterval(() => {
      setNow(Date.now());
      if (visible()) void load();
    }, POLL_MS);
    const onVisible = () => visible() && void load();
    document.addEventListener('visibilitychange', onVisible);
    const off = client().on('job.progress', (p) => setLive((all) => ({ ...all, [p.id]: p })));
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
      off();
    };
  }, [connected, load]);

  return { live, now, load };
}

export function useImages() {
  const [view, setView] = useState<ImagesView | null>(null);
  const [error, setError] = useState<ImagesError | null>(null);
  const { live, now, load } = usePolledImages(setView, setError);

  const pin = useCallback(async (image: ImageRecord, pinned: boolean) => {
    try {
      const updated = await client().call('images.pin', { ref: image.ref, pinned });
      setView((v) => (v ? { ...v, images: v.images.map((i) => (i.digest === updated.digest ? updated : i)) } : v));
      setError(null);
    } catch (e) {
      setError({ title: `Could not ${pinned ? 'pin' : 'unpin'} ${shortRepository(image.repository)}`, text: `${describe(e)} Try again; the table shows what the agent holds now.` });
      void load();
    }
  }, [load]);

  const prune = useCallback(async () => {
    try {
      // A manual prune removes every image no job uses that is not pinned (`all` would take pinned ones too).
      const result = await client().call('images.prune', { all: false });
      setError(null);
      void load();
      return result;
    } catch (e) {
      setError({ title: 'Could not remove the unused images', text: `${describe(e)} Nothing was lost: try again once that is fixed.` });
      throw e;
    }
  }, [load]);

  const save = useCallback(async (patch: ImagePatch) => {
    const next = await client().call('images.settings', patch);
    setView(next);
    return next;
  }, []);

  return { view, error, live, now, pin, prune, save };
}
