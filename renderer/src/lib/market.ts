/** Pure helpers of the Marketplace page and the Jobs page's market details. */
import type { JobOutputFile } from '../../../runtime/jobs/schema.js';
import type { ConnectionState, MarketJobRecord } from '../../../runtime/market/schema.js';

/** The connection state in a word or two, and the tone of its pill. */
export const CONNECTION_LABEL: Record<ConnectionState, { label: string; tone: 'ok' | 'info' | 'warn' | 'fail' | 'dim' }> = {
  off: { label: 'Off', tone: 'dim' },
  'starting-demo': { label: 'Starting the demo network', tone: 'info' },
  'wallet-locked': { label: 'Waiting for the wallet', tone: 'warn' },
  connecting: { label: 'Connecting', tone: 'info' },
  'signing-in': { label: 'Signing in', tone: 'info' },
  connected: { label: 'Connected', tone: 'ok' },
  retrying: { label: 'Reconnecting', tone: 'warn' },
  refused: { label: 'Refused', tone: 'fail' },
};

/** "retrying in 12 s" / "retrying now"; null without a retry time. */
export function retryText(nextRetryAt: number | null, now: number): string | null {
  if (nextRetryAt === null) return null;
  const s = Math.ceil((nextRetryAt - now) / 1000);
  return s <= 0 ? 'retrying now' : `retrying in ${s} s`;
}

/** How much of what is due has been paid, 0…1 (1 when nothing is due yet). */
export function paidFraction(paidUpTo: string, due: string): number {
  const d = BigInt(due);
  const p = BigInt(paidUpTo);
  if (d <= 0n) return 1;
  if (p >= d) return 1;
  return Number((p * 1000n) / d) / 1000;
}

/** Seconds a market job has run: the agent's count, or since it started when that is later. */
export function runSeconds(job: Pick<MarketJobRecord, 'usageSeconds' | 'startedAt'>, now: number): number {
  const since = job.startedAt === null ? 0 : Math.max(0, Math.floor((now - job.startedAt) / 1000));
  return Math.max(job.usageSeconds, since);
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** The newest picture among a job's outputs (what the Jobs page shows beside the job). */
export function firstImage(files: readonly JobOutputFile[]): JobOutputFile | null {
  const images = files.filter((f) => /^image\/(png|jpeg|gif|webp)$/.test(f.mimeType));
  if (images.length === 0) return null;
  return images.reduce((best, f) => (f.modifiedAt > best.modifiedAt ? f : best));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * A market URL the owner typed: a ws:// or wss:// URL, else why not. Plain ws:// to a host that
 * is not this computer is refused by the agent unless allowed in settings; the page says so first.
 */
export function checkMarketUrl(text: string): { ok: true; url: string } | { ok: false; why: string } {
  const t = text.trim();
  if (!t) return { ok: false, why: 'Enter the market address, e.g. wss://market.example.com' };
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    return { ok: false, why: 'That is not a URL: it looks like wss://market.example.com' };
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') return { ok: false, why: 'A market address starts with wss:// (or ws:// on this computer)' };
  const loopback = u.hostname === 'localhost' || u.hostname === '[::1]' || /^127\./.test(u.hostname);
  if (u.protocol === 'ws:' && !loopback) return { ok: false, why: 'Plain ws:// is only for a market on this computer: use wss:// (the connection is then encrypted)' };
  return { ok: true, url: t };
}
