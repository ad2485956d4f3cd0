import { describe, expect, it } from 'vitest';
import { PLAIN_EVERY_MS, PullProgressPrinter } from '../../../runtime/cli/commands/images-progress.js';
import type { JobProgressEvent } from '../../../runtime/jobs/schema.js';

const tick = (bytes: number, eta: number): JobProgressEvent => ({ id: 'j', phase: 'pull', fraction: bytes / 4.8e9, detail: 'd', bytes, totalBytes: 4.8e9, bytesPerSecond: 38e6, etaSeconds: eta });

function printer(terminal: boolean) {
  let out = '';
  let t = 0;
  const p = new PullProgressPrinter((s) => void (out += s), terminal, () => t);
  return { p, out: () => out, at: (ms: number) => void (t = ms) };
}

describe("offshift job run: the image download's progress", () => {
  it('on a terminal: one line updated in place, the log written above it, a summary at the end', () => {
    const { p, out, at } = printer(true);
    p.update(tick(1.2e9, 95));
    at(250);
    p.update(tick(1.3e9, 92));
    p.around(() => void 0, true);
    expect(out()).toBe('\r\x1b[KPulling the image: 1.2 of 4.8 GB · 38 MB/s · about 1 min 35 s left' + '\r\x1b[KPulling the image: 1.3 of 4.8 GB · 38 MB/s · about 1 min 32 s left' + '\r\x1b[K' + 'Pulling the image: 1.3 of 4.8 GB · 38 MB/s · about 1 min 32 s left');
    at(126_000);
    p.update(tick(4.8e9, 0));
    p.finish('done');
    expect(out().endsWith('\r\x1b[KPulled the image: 4.8 GB in 2 min 6 s (38 MB/s).\n')).toBe(true);
    // Nothing is drawn once the pull is over: the job's own output follows.
    const before = out();
    p.update(tick(4.8e9, 0));
    p.around(() => void 0, true);
    expect(out()).toBe(before);
  });

  it('a log line that does not end its line is not followed by the progress (it would run into it)', () => {
    const { p, out } = printer(true);
    p.update(tick(1e9, 100));
    let wrote = '';
    p.around(() => void (wrote = 'partial'), false);
    expect(wrote).toBe('partial');
    expect(out().endsWith('\r\x1b[K')).toBe(true);
  });

  it('elsewhere (a CI log): a line every few seconds, and the summary', () => {
    const { p, out, at } = printer(false);
    for (let ms = 0; ms <= 12_000; ms += 250) {
      at(ms);
      p.update(tick(1e8 + ms * 1e5, 100 - ms / 1000));
    }
    const lines = out().trimEnd().split('\n');
    expect(lines).toHaveLength(Math.floor(12_000 / PLAIN_EVERY_MS) + 1);
    expect(lines.every((l) => l.startsWith('Pulling the image: ') && !l.includes('\r'))).toBe(true);
    p.finish('done');
    expect(out().endsWith('Pulled the image: 4.8 GB in 12 s (400 MB/s).\n')).toBe(true);
  });

  it('the summary times the download itself: from the last report of nothing yet to the first of the final figure', () => {
    const { p, out, at } = printer(false);
    p.update(tick(0, 0)); // the manifest is read
    at(2000);
    p.update(tick(0, 0));
    at(3000);
    p.update(tick(2.4e9, 1));
    at(4000);
    p.update(tick(4.8e9, 0));
    at(9000);
    p.update(tick(4.8e9, 0)); // the layers are checked
    p.finish('done');
    expect(out().endsWith('Pulled the image: 4.8 GB in 2 s (2.4 GB/s).\n')).toBe(true);
  });

  it("a stopped pull leaves its last line, and may start again; an older agent's detail is shown as it is", () => {
    const { p, out } = printer(false);
    p.update(tick(2.4e9, 60));
    p.finish('stopped');
    expect(out()).toBe('Pulling the image: 2.4 of 4.8 GB · 38 MB/s · about 1 min 0 s left\nPulling the image: 2.4 of 4.8 GB · 38 MB/s · about 1 min 0 s left (stopped)\n');
    p.update({ id: 'j', phase: 'pull', fraction: 0.5, detail: 'Pulling the image: 50% (2.4 of 4.8 GB, 1 of 2 layers done)' });
    expect(out().endsWith('Pulling the image: 50% (2.4 of 4.8 GB, 1 of 2 layers done)\n')).toBe(true);
    // Without a pull, finishing prints nothing.
    const quiet = printer(true);
    quiet.p.finish('stopped');
    expect(quiet.out()).toBe('');
  });
});
