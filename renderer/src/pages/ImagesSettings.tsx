/**
 * The Images page's budget and download settings (`images.settings`), saved with the button;
 * fields the administrator set are disabled with a lock note, and the agent's refusal is shown.
 */
import type { ReactNode } from 'react';
import type { ImagePatch, ImagesView } from '../../../runtime/images/schema.js';
import { LockNote } from '../components/LockNote.js';
import type { SettingsDraft } from '../lib/images.js';
import { useImagesSettings, type ImagesSettingsForm } from './useImagesSettings.js';

function SettingRow({ field, form, title, hint, children }: { field: keyof SettingsDraft; form: ImagesSettingsForm; title: string; hint: string; children: ReactNode }) {
  const locked = form.locked(field);
  return (
    <div className={`images-field${locked ? ' is-locked' : ''}`} data-testid={`images-set-${field}`} data-locked={locked}>
      <label className="images-field-label" htmlFor={`images-input-${field}`}>
        {title}
        <span className="muted small">{hint}</span>
      </label>
      <span className="images-field-control">
        {children}
        {locked ? <LockNote kind="setting" /> : null}
      </span>
    </div>
  );
}

function NumberInput({ field, min, form }: { field: 'budgetGiB' | 'minFreeGiB'; min: number; form: ImagesSettingsForm }) {
  return (
    <input id={`images-input-${field}`} type="number" min={min} step={1} value={form.draft[field]} disabled={form.busy || form.locked(field)} onChange={(ev) => form.edit({ [field]: ev.target.value })} data-testid={`images-input-${field}`} />
  );
}

function Toggle({ field, form }: { field: 'pullWhileOwnerActive' | 'prePull'; form: ImagesSettingsForm }) {
  return (
    <input id={`images-input-${field}`} type="checkbox" checked={form.draft[field]} disabled={form.busy || form.locked(field)} onChange={(ev) => form.edit({ [field]: ev.target.checked })} data-testid={`images-input-${field}`} />
  );
}

function SettingsActions({ form }: { form: ImagesSettingsForm }) {
  const { busy, dirty, checked, problem, saved } = form;
  return (
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
  );
}

export function ImagesSettings({ view, save }: { view: ImagesView; save: (patch: ImagePatch) => Promise<ImagesView> }) {
  const form = useImagesSettings(view, save);
  return (
    <section className="card images-settings" data-testid="images-settings">
      <h3>Budget and downloads</h3>
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          void form.submit();
        }}
      >
        <SettingRow field="budgetGiB" form={form} title="Offshift's images, at most (GiB)" hint="Past it, the least recently used unpinned images are removed first.">
          <NumberInput field="budgetGiB" min={1} form={form} />
        </SettingRow>
        <SettingRow field="minFreeGiB" form={form} title="Always keep free on the engine's disk (GiB)" hint="Room for your games' and the system's updates, whatever the budget says.">
          <NumberInput field="minFreeGiB" min={0} form={form} />
        </SettingRow>
        <SettingRow field="pullWhileOwnerActive" form={form} title="Download while I use the computer" hint="Off: a download stops when you come back, and goes on from the layers it has.">
          <Toggle field="pullWhileOwnerActive" form={form} />
        </SettingRow>
        <SettingRow field="prePull" form={form} title="Pre-pull images the market wants" hint="While the computer is idle, within the budget, so that such jobs start at once.">
          <Toggle field="prePull" form={form} />
        </SettingRow>
        <SettingRow field="registryMirror" form={form} title="Registry mirror" hint="A pull-through cache on your network, e.g. registry.studio.lan:5000. Empty: each job's own registry.">
          <input
            id="images-input-registryMirror"
            type="text"
            className="images-mirror"
            placeholder="none"
            value={form.draft.registryMirror}
            disabled={form.busy || form.locked('registryMirror')}
            onChange={(ev) => form.edit({ registryMirror: ev.target.value })}
            data-testid="images-input-registryMirror"
          />
        </SettingRow>
        <SettingsActions form={form} />
      </form>
    </section>
  );
}
