/**
 * Fetching a marketplace job's inputs (URL + sha256) before it starts. The URL is the buyer's,
 * so it is hostile: only https (plain http only to this computer, when the market itself runs
 * here: the demo and tests), every resolved address checked against the egress proxy's refusal
 * list (no LAN, no loopback, no cloud metadata), no redirects, a size cap and a time limit, and
 * the content must hash to the sha256 the offer named.
 */
import crypto from 'node:crypto';
import dns from 'node:dns/promises';
import { AppError } from '../api/errors.js';
import { MAX_INPUT_BYTES } from '../sandbox/job-files.js';
import { destinationRefusal, forbiddenAddresses } from '../sandbox/egress/destinations.js';
import { isLoopbackHost } from './connection.js';

export interface InputRef {
  url: string;
  sha256: string;
  path: string;
  sizeBytes: number;
}

export async function fetchInputs(inputs: readonly InputRef[], options: { allowLoopback: boolean; timeoutMs?: number }): Promise<Record<string, Uint8Array>> {
  const total = inputs.reduce((n, i) => n + i.sizeBytes, 0);
  if (total > MAX_INPUT_BYTES) throw new AppError('inputs-too-large', `The job's inputs add up to ${total} bytes, more than the ${MAX_INPUT_BYTES} this agent fetches.`);
  const out: Record<string, Uint8Array> = {};
  for (const input of inputs) out[input.path] = await fetchOne(input, options);
  return out;
}

async function fetchOne(input: InputRef, options: { allowLoopback: boolean; timeoutMs?: number }): Promise<Uint8Array> {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new AppError('input-refused', `The input URL "${input.url.slice(0, 200)}" is not a URL.`);
  }
  const loopback = isLoopbackHost(url.hostname);
  if (loopback && !options.allowLoopback) throw new AppError('input-refused', `The input ${input.path} points to this computer (${url.host}); refused.`);
  if (!loopback) {
    if (url.protocol !== 'https:') throw new AppError('input-refused', `The input ${input.path} is not fetched over https.`);
    const addresses = await dns.lookup(url.hostname.replace(/^\[|\]$/g, ''), { all: true }).catch(() => []);
    if (addresses.length === 0) throw new AppError('input-refused', `The input host ${url.hostname} does not resolve.`);
    const forbidden = forbiddenAddresses();
    for (const a of addresses) {
      const why = destinationRefusal(a.address, forbidden);
      if (why) throw new AppError('input-refused', `The input ${input.path} is refused: ${why}.`);
    }
  }
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) }).catch((error: unknown) => {
    throw new AppError('input-unreachable', `The input ${input.path} could not be fetched: ${(error as Error).message}.`);
  });
  if (!response.ok || !response.body) throw new AppError('input-unreachable', `The input ${input.path} could not be fetched (HTTP ${response.status}).`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const hash = crypto.createHash('sha256');
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > input.sizeBytes) throw new AppError('input-refused', `The input ${input.path} is larger than the ${input.sizeBytes} bytes the offer named.`);
    hash.update(chunk);
    chunks.push(chunk);
  }
  const digest = hash.digest('hex');
  if (digest !== input.sha256) throw new AppError('input-refused', `The input ${input.path} does not match its sha256 (got ${digest}).`);
  return Buffer.concat(chunks);
}
