/** Plain-words formatting of what the agent reports. Pure. */
import type { AgentState, AgentStateName } from '../../../runtime/agent/schema.js';

export const STATE_LABELS: Record<AgentStateName, string> = {
  starting: 'Starting',
  available: 'Available',
  working: 'Working',
  paused: 'Paused',
  error: 'Needs attention',
};

/**
 * The header's words for a state: a short label for the pill and the agent's reason as a sentence.
 * The agent's detail often repeats the state ("Paused: cs2.exe is running"); the repeat is dropped
 * so the header reads "Paused — cs2.exe is running" (a plain first word is
 * capitalized; a process name keeps its case).
 */
export function stateHeadline(state: Pick<AgentState, 'state' | 'detail'>): { label: string; sentence: string } {
  const label = STATE_LABELS[state.state] ?? state.state;
  let sentence = state.detail.trim();
  for (const prefix of [label, state.state]) {
    const match = new RegExp(`^${escapeRegExp(prefix)}\\s*[:—–-]\\s*`, 'i').exec(sentence);
    if (match) {
      sentence = sentence.slice(match[0].length);
      break;
    }
  }
  // "waiting for work." → "Waiting for work."; a process or file name ("cs2.exe …") keeps its case.
  if (/^[a-z]+(\s|$)/.test(sentence)) sentence = sentence[0]!.toUpperCase() + sentence.slice(1);
  return { label, sentence };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** 11264 → "11 GiB", 512 → "512 MiB", null → "Unknown". */
export function formatMemory(mib: number | null | undefined): string {
  if (mib === null || mib === undefined || !Number.isFinite(mib)) return 'Unknown';
  if (mib < 1024) return `${formatNumber(mib, 0)} MiB`;
  const gib = mib / 1024;
  return `${formatNumber(gib, gib >= 100 || Number.isInteger(gib) ? 0 : 1)} GiB`;
}

/** A number with at most `decimals` decimals and thousands separators: 11264 → "11,264". */
export function formatNumber(value: number, decimals = 0): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: decimals, minimumFractionDigits: 0 });
}

/** A reading with its unit, or an em dash when the tool reported nothing. */
export function formatReading(value: number | null | undefined, unit: string, decimals = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const sep = unit === '%' || unit === '°C' ? '' : ' ';
  return `${formatNumber(value, decimals)}${sep}${unit}`;
}

/** "just now", "42 s ago", "5 min ago", "3 h ago". */
export function formatSince(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export const VENDOR_LABELS: Record<string, string> = { nvidia: 'NVIDIA', amd: 'AMD', intel: 'Intel', apple: 'Apple', other: 'Other' };
