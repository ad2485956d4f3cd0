/**
 * The admin policy as the agent follows it: the local file (watched, re-read within seconds of
 * a change), and, when that file pins a `source` ({ url, signer }), the signed policy served
 * there, checked at start and then every `everySeconds` (default 5 min) plus up to 10 % jitter.
 * A signed policy replaces the local file's own values once one is applied; until then the local
 * values apply. A refused document (unsigned, another signer, malformed, older) changes nothing
 * and is kept as the last refusal; the last good one is kept on disk for a restart offline.
 */
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { fetchPolicyDocument } from './fetch-document.js';
import { readKeptPolicy, readPolicyChecks, writeKeptPolicy, writePolicyChecks } from './kept.js';
import { describePolicy, optional } from './load.js';
import { DEFAULT_POLICY_CHECK_SECONDS, type LoadedPolicy, type PolicyRefusal, type PolicySource, type PolicyStatusView, type SignedPolicyBody, type SignedPolicyDocument } from './schema.js';
import { appliedPolicyVersion } from './version.js';
import { watchPolicy, type PolicyWatcher } from './watcher.js';

export interface PolicyFollower extends PolicyWatcher {
  /** Starts checking the signed policy URL, when the local file names one: at once, then periodically. */
  start(): void;
  /** Checks the URL now (a no-op without one); resolves once the answer is applied or refused. */
  checkNow(): Promise<void>;
  status(): PolicyStatusView;
}

export interface FollowOptions {
  /** The data folder: the last good signed policy is kept there. */
  home: string;
  log?: Logger;
  now?: () => Date;
  random?: () => number;
  fetchImpl?: typeof fetch;
  pollMs?: number;
  debounceMs?: number;
}

export function followPolicy(file: string, options: FollowOptions): PolicyFollower {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? silentLogger;
  const random = options.random ?? Math.random;
  const watcher = watchPolicy(file, { pollMs: options.pollMs, debounceMs: options.debounceMs });
  const listeners = new Set<(p: LoadedPolicy) => void>();

  let source: PolicySource | null = null;
  let applied: { body: SignedPolicyBody; document: SignedPolicyDocument } | null = null;
  let etag: string | null = null;
  let lastCheck: PolicyStatusView['lastCheck'] = null;
  let lastRefusal: PolicyRefusal | null = null;
  let started = false;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> | null = null;

  const compute = (): LoadedPolicy => {
    const local = watcher.current;
    if (local.state !== 'ok' || !local.source || !applied) return local;
    const b = applied.body;
    return { state: 'ok', file: local.source.url, mandatory: b.mandatory ?? {}, recommended: b.recommended ?? {}, ...optional({ pauseUntil: b.pauseUntil, version: b.version, source: local.source }) };
  };
  let current = compute();
  const refresh = () => {
    const next = compute();
    const changed = JSON.stringify(next) !== JSON.stringify(current);
    current = next;
    if (changed) for (const l of listeners) l(next);
  };

  const refuse = (at: Date, why: string, version: number | null) => {
    lastRefusal = { at: at.toISOString(), why, version };
    lastCheck = { at: at.toISOString(), result: `refused: ${why}` };
    log.warn('admin policy refused', { url: source?.url, version, why });
  };

  const adoptSource = () => {
    const local = watcher.current;
    const next = local.state === 'ok' ? (local.source ?? null) : null;
    if (JSON.stringify(next) === JSON.stringify(source)) return;
    const pinChanged = next?.url !== source?.url || next?.signer.toLowerCase() !== source?.signer.toLowerCase();
    source = next;
    if (pinChanged) {
      applied = null;
      etag = null;
      // What was checked and refused before a restart, for this same pin.
      ({ lastCheck, lastRefusal } = source ? readPolicyChecks(options.home, source) : { lastCheck: null, lastRefusal: null });
      const kept = source ? readKeptPolicy(options.home, source) : null;
      if (kept) {
        // Written only after it was verified; checked again once the verifier is loaded (start).
        applied = { body: kept.body, document: kept.document };
        etag = kept.etag;
      }
    }
    if (started) schedule(0);
  };
  adoptSource();
  current = compute();
  watcher.onChange(() => {
    adoptSource();
    refresh();
  });

  const schedule = (delayMs: number) => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!started || !source) return;
    timer = setTimeout(() => {
      timer = null;
      void checkNow().finally(() => {
        if (timer === null && source) {
          const every = (source.everySeconds ?? DEFAULT_POLICY_CHECK_SECONDS) * 1000;
          schedule(every + random() * every * 0.1);
        }
      });
    }, delayMs);
    timer.unref();
  };

  const check = async (): Promise<void> => {
    const src = source;
    if (!src) return;
    const at = now();
    const fetched = await fetchPolicyDocument(src.url, etag, { fetchImpl: options.fetchImpl });
    if (src !== source) return; // the pin changed while the request was out
    const keeping = applied ? `keeping version ${applied.body.version}` : 'no signed policy applied yet';
    switch (fetched.kind) {
      case 'not-modified':
        lastCheck = { at: at.toISOString(), result: `not modified (${keeping})` };
        return;
      case 'failed':
        lastCheck = { at: at.toISOString(), result: `failed: ${fetched.why}; ${keeping}` };
        log.warn('admin policy check failed', { url: src.url, why: fetched.why });
        return;
      case 'unreadable':
        etag = fetched.etag;
        refuse(at, fetched.why, null);
        return;
      case 'document': {
        const { verifySignedPolicy } = await import('./signed.js');
        const verdict = verifySignedPolicy(fetched.json, src.signer, applied?.body ?? null);
        etag = fetched.etag;
        if (!verdict.ok) {
          refuse(at, verdict.why, verdict.version);
          return;
        }
        lastCheck = { at: at.toISOString(), result: verdict.same ? `unchanged (version ${verdict.body.version})` : `applied version ${verdict.body.version}` };
        if (verdict.same) return;
        applied = { body: verdict.body, document: fetched.json as SignedPolicyDocument };
        try {
          writeKeptPolicy(options.home, src, applied.document, etag, at);
        } catch (error) {
          log.warn('admin policy applied but not kept on disk: a restart without network falls back to the local file', { error: (error as Error).message });
        }
        log.info('admin policy applied', { url: src.url, version: verdict.body.version, issuedAt: verdict.body.issuedAt });
        refresh();
      }
    }
  };

  /** The last check and refusal, on disk for `policy status` after a restart. Never throws. */
  const persistChecks = () => {
    if (!source) return;
    try {
      writePolicyChecks(options.home, source, { lastCheck, lastRefusal });
    } catch (error) {
      log.warn('the last policy check could not be recorded on disk', { error: (error as Error).message });
    }
  };

  const checkNow = (): Promise<void> => {
    inFlight ??= check().finally(() => {
      inFlight = null;
      persistChecks();
    });
    return inFlight;
  };

  /** The kept policy was verified before it was written; a file changed on disk since is dropped here. */
  const recheckKept = async () => {
    const kept = applied;
    const src = source;
    if (!kept || !src) return;
    const { verifySignedPolicy } = await import('./signed.js');
    const verdict = verifySignedPolicy(kept.document, src.signer, null);
    if (verdict.ok || applied !== kept) return;
    applied = null;
    etag = null;
    refuse(now(), `the policy kept on disk fails verification (${verdict.why}); using the local file until a good one is served`, verdict.version);
    persistChecks();
    refresh();
  };

  return {
    get current() {
      return current;
    },
    reload() {
      watcher.reload();
      adoptSource();
      refresh();
      return current;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    start() {
      if (started) return;
      started = true;
      void recheckKept().finally(() => schedule(0));
    },
    checkNow,
    status(): PolicyStatusView {
      const local = watcher.current;
      const waiting = source && !applied && current.state === 'ok' ? ` No signed policy from ${source.url} yet: the local file's own values apply.` : '';
      return {
        source: source ? 'url' : local.state === 'none' ? 'none' : 'file',
        file,
        url: source?.url ?? null,
        signer: source?.signer ?? null,
        state: current.state,
        message: describePolicy(current) + waiting,
        version: appliedPolicyVersion(current),
        issuedAt: applied?.body.issuedAt ?? null,
        pauseUntil: current.state === 'ok' ? (current.pauseUntil ?? null) : null,
        lastCheck,
        lastRefusal,
      };
    },
    close() {
      started = false;
      if (timer) clearTimeout(timer);
      timer = null;
      watcher.close();
    },
  };
}
