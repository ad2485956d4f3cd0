/**
 * The user's settings file: one JSON object in the data folder, one section per capability
 * (`{ "version": 1, "schedule": {...}, "wallet": {...} }`), holding only what the user chose
 * (defaults and an admin's recommendations fill the rest, see effective.ts). Each section is
 * validated by its own zod schema; sections this version does not know are kept as they are.
 * Writes are atomic (temp file, fsync, rename). A section that fails validation is reported as
 * a problem and not used; the next successful write replaces it, after saving the bad file aside.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { describeIssues } from './issues.js';
import { deepMerge, isPlainObject, type PlainObject } from './merge.js';
import { settingsSections, type SectionName, type SectionPatch } from './sections.js';

export const SETTINGS_FILE = 'settings.json';
const VERSION = 1;

export interface SectionState<K extends SectionName> {
  /** The user's own choices; undefined when none (or when the section is invalid). */
  patch: SectionPatch<K> | undefined;
  /** Why the section in the file cannot be used, naming the field; null when fine. */
  problem: string | null;
}

export interface SettingsStore {
  readonly file: string;
  section<K extends SectionName>(name: K): SectionState<K>;
  /**
   * Merges `patch` into the user's section (objects field by field, lists replaced), checks
   * it with `check` (which may throw an AppError), writes the file and returns the new section.
   */
  update<K extends SectionName>(name: K, patch: SectionPatch<K>, check?: (next: SectionPatch<K>) => void): SectionPatch<K>;
  /** Re-reads the file if it changed on disk (another process wrote it); true when it did. */
  refreshIfChanged(): boolean;
  onChange(listener: (section: SectionName) => void): () => void;
}

export function settingsFilePath(home: string): string {
  return path.join(home, SETTINGS_FILE);
}

/** Parses the file's text into its raw document and per-section states. Pure. */
export function parseSettings(text: string | null): { doc: PlainObject; fileProblem: string | null; sections: Map<SectionName, SectionState<SectionName>> } {
  const sections = new Map<SectionName, SectionState<SectionName>>();
  let doc: PlainObject = {};
  let fileProblem: string | null = null;
  if (text !== null) {
    try {
      const json: unknown = JSON.parse(text);
      if (isPlainObject(json)) doc = json;
      else fileProblem = 'the settings file must hold a JSON object';
    } catch (error) {
      fileProblem = `the settings file is not valid JSON (${error instanceof Error ? error.message : String(error)})`;
    }
  }
  for (const name of Object.keys(settingsSections) as SectionName[]) {
    if (fileProblem) {
      sections.set(name, { patch: undefined, problem: fileProblem });
      continue;
    }
    const raw = doc[name];
    if (raw === undefined) {
      sections.set(name, { patch: undefined, problem: null });
      continue;
    }
    const parsed = settingsSections[name].patch.safeParse(raw);
    sections.set(name, parsed.success ? { patch: parsed.data, problem: null } : { patch: undefined, problem: describeIssues(parsed.error, name) });
  }
  return { doc, fileProblem, sections };
}

export function openSettingsStore(home: string): SettingsStore {
  const file = settingsFilePath(home);
  const listeners = new Set<(s: SectionName) => void>();
  let stampSeen = '';
  /** Why the file cannot be read at all (a folder, no permission), with what to do; null when it can (or is absent). */
  let unreadable: string | null = null;
  let state = read();

  function read() {
    let text: string | null = null;
    unreadable = null;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') unreadable = unreadableProblem(file, code === 'EISDIR' ? 'it is a folder, not a file' : (error as Error).message);
    }
    stampSeen = stamp(file);
    const parsed = parseSettings(text);
    if (!unreadable) return parsed;
    // Nothing the owner chose can be known: every section has the problem, so no work runs on a guess.
    const problem = unreadable;
    return { ...parsed, fileProblem: problem, sections: new Map([...parsed.sections.keys()].map((name) => [name, { patch: undefined, problem }])) };
  }

  return {
    file,
    section<K extends SectionName>(name: K): SectionState<K> {
      return state.sections.get(name) as SectionState<K>;
    },
    update<K extends SectionName>(name: K, patch: SectionPatch<K>, check?: (next: SectionPatch<K>) => void): SectionPatch<K> {
      const parsedPatch = settingsSections[name].patch.safeParse(patch);
      if (!parsedPatch.success) throw new AppError('invalid-input', `Invalid settings: ${describeIssues(parsedPatch.error, name)}.`);
      const current = state.sections.get(name);
      const next = deepMerge(current?.patch ?? {}, parsedPatch.data);
      const reparsed = settingsSections[name].patch.safeParse(next);
      if (!reparsed.success) throw new AppError('invalid-input', `Invalid settings: ${describeIssues(reparsed.error, name)}.`);
      const value = reparsed.data as SectionPatch<K>;
      check?.(value);
      if (unreadable) throw new AppError('settings-unreadable', `Cannot save your settings: ${unreadable}`);
      if (state.fileProblem || current?.problem) {
        // Keep the file the user (or a tool) broke, so nothing they wrote is lost silently.
        try {
          fs.copyFileSync(file, `${file}.invalid-${new Date().toISOString().replace(/[:.]/g, '-')}`);
        } catch {}
      }
      const doc: PlainObject = { ...(state.fileProblem ? {} : state.doc), version: VERSION, [name]: value };
      writeFileAtomic(file, JSON.stringify(doc, null, 2) + '\n', 0o600);
      state = read();
      for (const l of listeners) l(name);
      return value;
    },
    refreshIfChanged() {
      if (stamp(file) === stampSeen) return false;
      const before = JSON.stringify([...state.sections]);
      state = read();
      if (JSON.stringify([...state.sections]) === before) return false;
      for (const name of state.sections.keys()) for (const l of listeners) l(name);
      return true;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function unreadableProblem(file: string, why: string): string {
  return `the settings file ${file} cannot be read (${why}): move it aside or remove it, then save your settings again`;
}

function stamp(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'missing';
  }
}
