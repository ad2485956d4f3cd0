/**
 * The Images page's budget and download settings (`images.settings`), saved with the button;
 * fields the administrator set are disabled with a lock note, and the agent's refusal is shown.
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { ImagePatch, ImageSettings, ImagesView } from '../../../runtime/images/schema.js';
import { LockNote } from '../components/LockNote.js';
import { formatDisk, settingsDraft, settingsPatch, type SettingsDraft } from '../lib/images.js';

export function ImagesSettings({ view, save }: { view: ImagesView; save: (patch: ImagePatch) => Promise<ImagesView> }) {
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

  const row = (field: keyof SettingsDraft, label: ReactNode, control: ReactNode) => (
    <div className={`images-field${locked(field) ? ' is-locked' : ''}`} data-testid={`images-set-${field}`} data-locked={locked(field)}>
      <label className="images-field-label" htmlFor={`images-input-${field}`}>
        {label}
      </label>
      <span className="images-field-control">
        {control}
        {locked(field) ? <LockNote kind="setting" /> : null}
      </span>
    </div>
  );
  const number = (field: 'budgetGiB' | 'minFreeGiB', min: number) => (
    <input id={`images-input-${field}`} type="number" min={min} step={1} value={draft[field]} disabled={busy || locked(field)} onChange={(ev) => edit({ [field]: ev.target.value })} data-testid={`images-input-${field}`} />
  );
  const toggle = (field: 'pullWhileOwnerActive' | 'prePull') => (
    <input id={`images-input-${field}`} type="checkbox" checked={draft[field]} disabled={busy || locked(field)} onChange={(ev) => edit({ [field]: ev.target.checked })} data-testid={`images-input-${field}`} />
  );

  return (
    <section className="card images-settings" data-testid="images-settings">
      <h3>Budget and downloads</h3>
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          void submit();
        }}
      >
        {row(
          'budgetGiB',
          <>
            Offshift&apos;s images, at most (GiB)
            <span className="muted small">Past it, the least recently used unpinned images are removed first.</span>
          </>,
          number('budgetGiB', 1),
        )}
        {row(
          'minFreeGiB',
          <>
            Always keep free on the engine&apos;s disk (GiB)
            <span className="muted small">Room for your games&apos; and the system&apos;s updates, whatever the budget says.</span>
          </>,
          number('minFreeGiB', 0),
        )}
        {row(
          'pullWhileOwnerActive',
          <>
            Download while I use the computer
            <span className="muted small">Off: a download stops when you come back, and goes on from the layers it has.</span>
          </>,
          toggle('pullWhileOwnerActive'),
        )}
        {row(
          'prePull',
          <>
            Pre-pull images the market wants
            <span className="muted small">While the computer is idle, within the budget, so that such jobs start at once.</span>
          </>,
          toggle('prePull'),
        )}
        {row(
          'registryMirror',
          <>
            Registry mirror
            <span className="muted small">A pull-through cache on your network, e.g. registry.studio.lan:5000. Empty: each job&apos;s own registry.</span>
          </>,
          <input
            id="images-input-registryMirror"
            type="text"
            className="images-mirror"
            placeholder="none"
            value={draft.registryMirror}
            disabled={busy || locked('registryMirror')}
            onChange={(ev) => edit({ registryMirror: ev.target.value })}
            data-testid="images-input-registryMirror"
          />,
        )}
        <div className="images-actions">
          <button type="submit" className="button button-primary" disabled={busy || !dirty} data-testid="images-settings-save">
            {busy ? 'Saving…' : 'Save'}
          </button>
          {!checked.ok ? (
            <span className="tone-fail small" role="alert" data-testid="images-settings-invalid">
              {checked.why}
            </span>
          ) : null}
          {problem ? (
            <span className="tone-fail small" role="alert" data-testid="images-settings-problem">
              {problem}
            </span>
          ) : null}
          {saved ? (
            <span className="tone-ok small" role="status" data-testid="images-settings-saved">
              {saved}
            </span>
          ) : null}
        </div>
      </form>
    </section>
  );
}
