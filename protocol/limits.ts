/** The protocol's version, its paths and the limits both ends hold each other to. */

export const PROTOCOL_VERSION = 1;
/**
 * The revisions this side speaks. 2 is version 1 with the image additions (protocol/images.ts),
 * 3 adds the payout address (protocol/payout.ts): nothing of an earlier revision changed, and a
 * peer that lists only earlier ones is answered, and spoken to, in the highest of those.
 */
export const SUPPORTED_VERSIONS = [1, 2, 3] as const;

/** The largest text frame either side accepts; an output chunk fits in it with room to spare. */
export const MAX_MESSAGE_BYTES = 512 * 1024;
/** Output files relayed from provider to buyer are cut into chunks of this many bytes (before base64). */
export const OUTPUT_CHUNK_BYTES = 192 * 1024;
/** What one job may relay as output, all files together. */
export const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;
/** What one job may relay as output, in files (empty files cost no bytes, so bytes alone do not bound them). */
export const MAX_OUTPUT_FILES = 1000;
/** A sign-in nonce is good for this long, once. */
export const NONCE_TTL_MS = 60_000;
export const DEFAULT_OFFER_TTL_MS = 10_000;
export const DEFAULT_REPORT_INTERVAL_S = 30;
export const MIN_REPORT_INTERVAL_S = 5;
export const MAX_REPORT_INTERVAL_S = 300;
/** How many providers may run a job in turn when the ones before were preempted (the buyer's `maxAttempts`, 1–10). */
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_ATTEMPTS = 10;

/** WebSocket paths on the market: providers dial /v1/provider, buyers /v1/buyer; GET /v1/jobs and /v1/providers read. */
export const PATHS = { provider: '/v1/provider', buyer: '/v1/buyer', jobs: '/v1/jobs', providers: '/v1/providers' } as const;

/**
 * The highest price per hour a job may offer, in base units (10^24: a million tokens at 18
 * decimals). A job at this price for the longest duration (30 days) comes to 7.2·10^26, which
 * the provider's ledger records exactly (one amount: below 9.2·10^30, runtime/ledger/amount.ts)
 * and the escrow (uint256) holds; a price past it could be accepted and never reported.
 */
export const MAX_PRICE_PER_HOUR = 10n ** 24n;
export const MAX_JOB_SECONDS = 30 * 86_400;
