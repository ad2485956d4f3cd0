/** The Images page's settings form state: the draft (replaced only when the agent's settings change), what it would change, and saving it. */
import { useEffect, useState } from 'react';
import type { ImagePatch, ImageSettings, ImagesView } from '../../../runtime/images/schema.js';
import { formatDisk, settingsDraft, settingsPatch, type SettingsDraft } from '../lib/images.js';

export function useImagesSettings(view: ImagesView, save: (patch: ImagePatch) => Promise<ImagesView>) {
  const e = view.effective;
  const [draft, setDraft] = useState<SettingsDraft>(() => settingsDraft(e));
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The page polls: only a change of what the agent holds (the CLI, another window) replaces what is typed.
  const key = JSON.stringify(e);
  useEffect(() => setDraft(settingsDraft(JSON.parse(key) as ImageSettings)), [key]);

  const locked = (field: keyof SettingsDraft) => view.locked.some((l) => l === `images.${field}` || l === 'images');
  const checked = settingsPatch(draft, e, view.locked);
  const dirty = checked.ok && Object.keys(checked.patch).length > 0;
  const edit = (patch: Partial<SettingsDraft>) => (setDraft((d) => ({ ...d, ...patch })), setSaved(null), setProblem(null));

  const submit = async () => {
    if (!checked.ok) return setProblem(checked.why);
    setBusy(true);
    try {
      const before = view.usage.usedBytes;
      const next = await save(checked.patch);
      const freed = before - next.usage.usedBytes;
      setSaved(freed > 0 ? `Saved: ${formatDisk(freed)} of unused images removed to fit.` : 'Saved: applied now.');
      setProblem(null);
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
      setSaved(null);
    } finally {
      setBusy(false);
    }
  };

  return { draft, problem, saved, busy, locked, checked, dirty, edit, submit };
}

export type ImagesSettingsForm = ReturnType<typeof useImagesSettings>;
