/**
 * The signed policy a local file pins, followed: the pin adopted (with what was kept for it), the
 * URL checked at once and then periodically, each answer applied or refused, the kept one re-verified.
 */
import { fetchPolicyDocument } from './fetch-document.js';
import { computePolicy, persistChecks, refreshPolicy, refuse, type FollowState } from './follow-state.js';
import { readKeptPolicy, readPolicyChecks, writeKeptPolicy } from './kept.js';
import { DEFAULT_POLICY_CHECK_SECONDS, type SignedPolicyDocument } from './schema.js';

/** Takes the local file's pin: a new pin starts from what was kept on disk for it; a check follows when started. */
export function adoptSource(s: FollowState): void {
  const local = s.watcher.current;
  const next = local.state === 'ok' ? (local.source ?? null) : null;
  if (JSON.stringify(next) === JSON.stringify(s.source)) return;
  const pinChanged = next?.url !== s.source?.url || next?.signer.toLowerCase() !== s.source?.signer.toLowerCase();
  s.source = next;
  if (pinChanged) {
    s.applied = null;
    s.etag = null;
    // What was checked and refused before a restart, for this same pin.
    ({ lastCheck: s.lastCheck, lastRefusal: s.lastRefusal } = s.source ? readPolicyChecks(s.options.home, s.source) : { lastCheck: null, lastRefusal: null });
    const kept = s.source ? readKeptPolicy(s.options.home, s.source) : null;
    if (kept) {
      // Written only after it was verified; checked again once the verifier is loaded (start).
      s.applied = { body: kept.body, document: kept.document };
      s.etag = kept.etag;
    }
  }
  if (s.started) scheduleCheck(s, 0);
}

/** Adopts the pin at creation, and again whenever the local file changes. */
export function followLocalFile(s: FollowState): void {
  adoptSource(s);
  s.current = computePolicy(s);
  s.watcher.onChange(() => {
    adoptSource(s);
    refreshPolicy(s);
  });
}

export function scheduleCheck(s: FollowState, delayMs: number): void {
  if (s.timer) clearTimeout(s.timer);
  s.timer = null;
  if (!s.started || !s.source) return;
  s.timer = setTimeout(() => {
    s.timer = null;
    void checkNow(s).finally(() => {
      if (s.timer === null && s.source) {
        const every = (s.source.everySeconds ?? DEFAULT_POLICY_CHECK_SECONDS) * 1000;
        scheduleCheck(s, every + s.random() * every * 0.1);
      }
    });
  }, delayMs);
  s.timer.unref();
}

/** Checks the URL now (one check at a time); its result is recorded on disk once done. */
export function checkNow(s: FollowState): Promise<void> {
  s.inFlight ??= check(s).finally(() => {
    s.inFlight = null;
    persistChecks(s);
  });
  return s.inFlight;
}

async function check(s: FollowState): Promise<void> {
  const src = s.source;
  if (!src) return;
  const at = s.now();
  const fetched = await fetchPolicyDocument(src.url, s.etag, { fetchImpl: s.options.fetchImpl });
  if (src !== s.source) return; // the pin changed while the request was out
  const keeping = s.applied ? `keeping version ${s.applied.body.version}` : 'no signed policy applied yet';
  switch (fetched.kind) {
    case 'not-modified':
      s.lastCheck = { at: at.toISOString(), result: `not modified (${keeping})` };
      return;
    case 'failed':
      s.lastCheck = { at: at.toISOString(), result: `failed: ${fetched.why}; ${keeping}` };
      s.log.warn('admin policy check failed', { url: src.url, why: fetched.why });
      return;
    case 'unreadable':
      s.etag = fetched.etag;
      refuse(s, at, fetched.why, null);
      return;
    case 'document': {
      const { verifySignedPolicy } = await import('./signed.js');
      const verdict = verifySignedPolicy(fetched.json, src.signer, s.applied?.body ?? null);
      s.etag = fetched.etag;
      if (!verdict.ok) {
        refuse(s, at, verdict.why, verdict.version);
        return;
      }
      s.lastCheck = { at: at.toISOString(), result: verdict.same ? `unchanged (version ${verdict.body.version})` : `applied version ${verdict.body.version}` };
      if (verdict.same) return;
      s.applied = { body: verdict.body, document: fetched.json as SignedPolicyDocument };
      try {
        writeKeptPolicy(s.options.home, src, s.applied.document, s.etag, at);
      } catch (error) {
        s.log.warn('admin policy applied but not kept on disk: a restart without network falls back to the local file', { error: (error as Error).message });
      }
      s.log.info('admin policy applied', { url: src.url, version: verdict.body.version, issuedAt: verdict.body.issuedAt });
      refreshPolicy(s);
    }
  }
}

/** The kept policy was verified before it was written; a file changed on disk since is dropped here. */
export async function recheckKept(s: FollowState): Promise<void> {
  const kept = s.applied;
  const src = s.source;
  if (!kept || !src) return;
  const { verifySignedPolicy } = await import('./signed.js');
  const verdict = verifySignedPolicy(kept.document, src.signer, null);
  if (verdict.ok || s.applied !== kept) return;
  s.applied = null;
  s.etag = null;
  refuse(s, s.now(), `the policy kept on disk fails verification (${verdict.why}); using the local file until a good one is served`, verdict.version);
  persistChecks(s);
  refreshPolicy(s);
}
