/**
 * Offshift's own download of an image's layers, kept on disk until the engine has them: a layer
 * cut short (the owner came back, the agent stopped, the network dropped) is resumed where it
 * stopped with an HTTP Range request, and a finished layer is never fetched again. The engine
 * cannot do either (moby #26146, #48539: a cancelled pull loses even its finished layers), so the
 * engine pulls from these files through the local relay (relay.ts). Every layer is checked
 * against its digest and its stated size; a registry that sends more is cut off.
 */
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';

/** A layer's bytes from the registry, from `offset` on: 206 (the rest) or 200 (all of it, the registry ignored the range). */
export interface BlobAnswer {
  status: number;
  body: AsyncIterable<Uint8Array>;
}
export type OpenBlob = (digest: string, offset: number, signal: AbortSignal) => Promise<BlobAnswer>;

/** With no byte for this long, a layer's download counts as cut (and is resumed by the next try). */
export const IDLE_TIMEOUT_MS = 60_000;

export class BlobCache {
  private readonly fetching = new Map<string, Promise<void>>();
  /** Emits 'written' with a layer's digest each time bytes of it reach the disk (the relay streams a layer as it arrives). */
  readonly written = new EventEmitter().setMaxListeners(0);

  constructor(readonly dir: string) {}

  file(digest: string): string {
    return path.join(this.dir, digest.replace(/^sha256:/, ''));
  }

  partial(digest: string): string {
    return `${this.file(digest)}.partial`;
  }

  has(digest: string): boolean {
    return fs.existsSync(this.file(digest));
  }

  /** Bytes already here of a layer (finished or not). */
  heldBytes(digest: string): number {
    for (const f of [this.file(digest), this.partial(digest)]) {
      try {
        return fs.statSync(f).size;
      } catch {}
    }
    return 0;
  }

  /** Every cached byte, finished and partial layers together (they count against the image budget). */
  totalBytes(): number {
    return this.entries().reduce((sum, e) => sum + e.bytes, 0);
  }

  entries(): Array<{ digest: string; bytes: number; modifiedAt: number; partial: boolean }> {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names.flatMap((name) => {
      const m = /^([0-9a-f]{64})(\.partial)?$/.exec(name);
      if (!m) return [];
      try {
        const s = fs.statSync(path.join(this.dir, name));
        return [{ digest: `sha256:${m[1]}`, bytes: s.size, modifiedAt: s.mtimeMs, partial: !!m[2] }];
      } catch {
        return [];
      }
    });
  }

  remove(digest: string): void {
    if (this.fetching.has(digest)) return;
    fs.rmSync(this.file(digest), { force: true });
    fs.rmSync(this.partial(digest), { force: true });
  }

  /** Downloads the layer into the cache (resuming a partial one); one download per layer however many ask. */
  fetch(layer: { digest: string; sizeBytes: number }, open: OpenBlob, onBytes: (delta: number) => void, signal: AbortSignal): Promise<void> {
    if (this.has(layer.digest)) return Promise.resolve();
    let running = this.fetching.get(layer.digest);
    if (!running) {
      running = this.download(layer, open, onBytes, signal)
        .catch((error: unknown) => {
          // The registry's words (a cut connection, a refusal), as what a person can do about it.
          if (error instanceof AppError || signal.aborted) throw error;
          throw new AppError('image-pull-failed', `The layer ${layer.digest} could not be downloaded: ${(error as Error).message}. What came is kept and the next try resumes it; check the network.`);
        })
        .finally(() => this.fetching.delete(layer.digest));
      this.fetching.set(layer.digest, running);
    }
    return running;
  }

  private async download(layer: { digest: string; sizeBytes: number }, open: OpenBlob, onBytes: (delta: number) => void, signal: AbortSignal): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const partial = this.partial(layer.digest);
    let offset = this.heldBytes(layer.digest);
    if (offset > layer.sizeBytes) {
      fs.rmSync(partial, { force: true });
      offset = 0;
    }
    const hash = crypto.createHash('sha256');
    if (offset > 0) for await (const chunk of fs.createReadStream(partial)) hash.update(chunk as Buffer);
    if (offset < layer.sizeBytes || layer.sizeBytes === 0) {
      const idle = new AbortController();
      const both = AbortSignal.any([signal, idle.signal]);
      let idleTimer = setTimeout(() => idle.abort(), IDLE_TIMEOUT_MS);
      const answer = await open(layer.digest, offset, both);
      if (answer.status === 200 && offset > 0) {
        // The registry ignored the range: start the layer over.
        clearTimeout(idleTimer);
        idle.abort();
        return this.restart(layer, open, onBytes, signal);
      }
      if (answer.status !== 200 && answer.status !== 206) throw new AppError('image-pull-failed', `The registry answered ${answer.status} for the layer ${layer.digest}.`);
      const out = fs.createWriteStream(partial, { flags: 'a' });
      let written = offset;
      try {
        for await (const chunk of answer.body) {
          clearTimeout(idleTimer);
          idleTimer = setTimeout(() => idle.abort(), IDLE_TIMEOUT_MS);
          written += chunk.byteLength;
          if (written > layer.sizeBytes) throw new AppError('image-digest-mismatch', `The registry sent more than the ${layer.sizeBytes} bytes its manifest states for the layer ${layer.digest}; it was cut off.`);
          hash.update(chunk);
          // Told once the bytes are in the file, where the relay reads them.
          if (!out.write(chunk, () => this.written.emit('written', layer.digest))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
          onBytes(chunk.byteLength);
        }
      } catch (error) {
        if (idle.signal.aborted && !signal.aborted) throw new AppError('image-pull-failed', `The registry sent nothing for ${IDLE_TIMEOUT_MS / 1000} s while the layer ${layer.digest} was downloaded; what came is kept and the next try resumes it.`);
        throw error;
      } finally {
        clearTimeout(idleTimer);
        await new Promise<void>((resolve) => out.end(resolve));
      }
      if (written !== layer.sizeBytes) throw new AppError('image-pull-failed', `The layer ${layer.digest} ended after ${written} of ${layer.sizeBytes} bytes; what came is kept and the next try resumes it.`);
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== layer.digest) {
      fs.rmSync(partial, { force: true });
      throw new AppError('image-digest-mismatch', `The layer served as ${layer.digest} hashes to ${actual}; it was thrown away. The registry (or its mirror) serves other content under this digest.`);
    }
    fs.renameSync(partial, this.file(layer.digest));
  }

  private async restart(layer: { digest: string; sizeBytes: number }, open: OpenBlob, onBytes: (delta: number) => void, signal: AbortSignal): Promise<void> {
    fs.rmSync(this.partial(layer.digest), { force: true });
    return this.download(layer, open, onBytes, signal);
  }
}
