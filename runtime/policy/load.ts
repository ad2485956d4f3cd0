import fs from 'node:fs';
import { describeIssues } from '../settings/issues.js';
import { policyFileSchema, type LoadedPolicy } from './schema.js';

/** Parses policy text. Pure. Anything malformed is `invalid` with a message naming the field. */
export function parsePolicy(text: string, file: string): LoadedPolicy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { state: 'invalid', file, message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const parsed = policyFileSchema.safeParse(json);
  if (!parsed.success) return { state: 'invalid', file, message: describeIssues(parsed.error) };
  const { mandatory, recommended, pauseUntil, version, source } = parsed.data;
  return { state: 'ok', file, mandatory: mandatory ?? {}, recommended: recommended ?? {}, ...optional({ pauseUntil, version, source }) };
}

/** Only the keys that have a value, so a policy without them compares equal to one written before they existed. */
export function optional<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Reads the policy file: absent → `none`; unreadable or malformed → `invalid` (fail safe). */
export function loadPolicy(file: string): LoadedPolicy {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'none', file };
    return { state: 'invalid', file, message: `cannot be read (${code ?? String(error)})` };
  }
  return parsePolicy(text, file);
}

export function describePolicy(policy: LoadedPolicy): string {
  switch (policy.state) {
    case 'none':
      return `No administrator policy (${policy.file} does not exist).`;
    case 'ok':
      return `Administrator policy${policy.version === undefined ? '' : ` version ${policy.version}`} applied from ${policy.file}.`;
    case 'invalid':
      return `The administrator policy ${policy.file} is invalid: ${policy.message}. No work runs until an administrator fixes it.`;
  }
}
