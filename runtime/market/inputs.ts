/**
 * Fetching a marketplace job's inputs (URL + sha256) before it starts. The URL is the buyer's,
 * so it is hostile: only https (plain http only to this computer, when the market itself runs
 * here: the demo and tests), every resolved address checked against the egress proxy's refusal
 * list (no LAN, no loopback, no cloud metadata, none of this machine's addresses), no redirects,
 * a size cap and a time limit, and the content must hash to the sha256 the offer named.
 *
 * The name is resolved ONCE and the connection goes to an address that was checked (the
 * request's `lookup` answers only those), with the URL's host name kept for TLS (SNI and the
 * certificate check) and the Host header: a DNS server that answers a public address to the
 * check and 127.0.0.1 or 169.254.169.254 to the connect (DNS rebinding) reaches nothing.
 */
import crypto from 'node:crypto';
import dns from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { AppError } from '../errors.js';
import { MAX_INPUT_BYTES } from '../sandbox/job-files.js';
import { destinationRefusal, forbiddenAddresses, hostAddresses } from '../sandbox/egress/destinations.js';
import { isLoopbackHost } from './connection.js';

export interface InputRef {
  url: string;
  sha256: string;
  path: string;
  sizeBytes: number;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** A host name's addresses (every one: each is checked, and only those are connected to). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (host) =>
  (await dns.lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export interface FetchInputsOptions {
  /** Plain http and loopback hosts are allowed: the market runs on this computer (demo, tests). */
  allowLoopback: boolean;
  timeoutMs?: number;
  /** Name resolution (tests inject one; default: the system's, as `getaddrinfo`). */
  resolve?: Resolver;
  /** Certificate authorities to trust instead of the system's (tests: a local https server). */
  ca?: string | Buffer;
}

export async function fetchInputs(inputs: readonly InputRef[], options: FetchInputsOptions): Promise<Record<string, Uint8Array>> {
  const total = inputs.reduce((n, i) => n + i.sizeBytes, 0);
  if (total > MAX_INPUT_BYTES) throw new AppError('inputs-too-large', `The job's inputs add up to ${total} bytes, more than the ${MAX_INPUT_BYTES} this agent fetches.`);
  const out: Record<string, Uint8Array> = {};
  for (const input of inputs) out[input.path] = await fetchOne(input, options);
  return out;
}

const isLoopbackAddress = (ip: string) => /^127\./.test(ip) || ip === '::1' || /^::ffff:127\./i.test(ip);

/** The addresses the input may be fetched from: resolved once, each one checked. */
async function checkedAddresses(input: InputRef, url: URL, host: string, loopbackHost: boolean, resolve: Resolver): Promise<ResolvedAddress[]> {
  const literal = net.isIP(host);
  let addresses: ResolvedAddress[];
  if (literal) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  else {
    addresses = await resolve(host).catch(() => []);
    if (addresses.length === 0) throw new AppError('input-refused', `The input host ${url.hostname} does not resolve.`);
  }
  if (loopbackHost) {
    // The market runs here: this computer, and nothing else, under a loopback name.
    const elsewhere = addresses.find((a) => !isLoopbackAddress(a.address));
    if (elsewhere) throw new AppError('input-refused', `The input ${input.path} names ${url.hostname}, which resolves to ${elsewhere.address}, not to this computer; refused.`);
    return addresses;
  }
  const forbidden = forbiddenAddresses();
  const own = hostAddresses();
  for (const a of addresses) {
    const why = destinationRefusal(a.address, forbidden, [], own);
    if (why) throw new AppError('input-refused', `The input ${input.path} is refused: ${why}.`);
  }
  return addresses;
}

/** A `lookup` for the request that answers only the checked addresses, whatever it is asked. */
function pinnedLookup(addresses: readonly ResolvedAddress[]): net.LookupFunction {
  return (_hostname, options, callback) => {
    const family = typeof options === 'object' && (options.family === 4 || options.family === 6) ? options.family : 0;
    const usable = family ? addresses.filter((a) => a.family === family) : [...addresses];
    const cb = callback as unknown as (error: Error | null, address: string | ResolvedAddress[], family?: number) => void;
    if (usable.length === 0) return cb(Object.assign(new Error(`no checked IPv${family} address`), { code: 'ENOTFOUND' }), '', family);
    if (typeof options === 'object' && options.all) return cb(null, usable);
    cb(null, usable[0]!.address, usable[0]!.family);
  };
}

async function fetchOne(input: InputRef, options: FetchInputsOptions): Promise<Uint8Array> {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new AppError('input-refused', `The input URL "${input.url.slice(0, 200)}" is not a URL.`);
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = isLoopbackHost(url.hostname);
  if (loopback && !options.allowLoopback) throw new AppError('input-refused', `The input ${input.path} points to this computer (${url.host}); refused.`);
  if (url.protocol !== 'https:' && !(loopback && url.protocol === 'http:')) throw new AppError('input-refused', `The input ${input.path} is not fetched over https.`);
  const addresses = await checkedAddresses(input, url, host, loopback, options.resolve ?? systemResolver);

  const timeoutMs = options.timeoutMs ?? 60_000;
  const signal = AbortSignal.timeout(timeoutMs);
  const unreachable = (error: unknown) => {
    const why = signal.aborted ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (error as Error).message;
    return new AppError('input-unreachable', `The input ${input.path} could not be fetched: ${why}.`);
  };
  const requestOptions: https.RequestOptions = {
    method: 'GET',
    host,
    port: url.port || undefined,
    path: `${url.pathname}${url.search}`,
    headers: { host: url.host, 'accept-encoding': 'identity', 'user-agent': 'offshift-agent' },
    lookup: pinnedLookup(addresses),
    agent: false, // no pooled connection: each fetch connects to its own checked address
    signal,
    ...(url.protocol === 'https:' ? { servername: net.isIP(host) ? undefined : host, ...(options.ca ? { ca: options.ca } : {}) } : {}),
  };
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(requestOptions, resolve);
    request.on('error', (error) => reject(unreachable(error)));
    request.end();
  });
  try {
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400) throw new AppError('input-unreachable', `The input ${input.path} could not be fetched: it redirects (HTTP ${status}), and redirects are not followed.`);
    if (status < 200 || status >= 300) throw new AppError('input-unreachable', `The input ${input.path} could not be fetched (HTTP ${status}).`);
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > input.sizeBytes) throw new AppError('input-refused', `The input ${input.path} is larger than the ${input.sizeBytes} bytes the offer named.`);
    const chunks: Buffer[] = [];
    let size = 0;
    const hash = crypto.createHash('sha256');
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > input.sizeBytes) throw new AppError('input-refused', `The input ${input.path} is larger than the ${input.sizeBytes} bytes the offer named.`);
        hash.update(chunk);
        chunks.push(chunk);
      }
    } catch (error) {
      throw error instanceof AppError ? error : unreachable(error);
    }
    const digest = hash.digest('hex');
    if (digest !== input.sha256) throw new AppError('input-refused', `The input ${input.path} does not match its sha256 (got ${digest}).`);
    return Buffer.concat(chunks);
  } finally {
    response.destroy();
  }
}
