/**
 * `offshift job run`'s image download on stderr, from the job's `job.progress` events: on a
 * terminal one line that updates in place, elsewhere (a CI log, a file) a line every few seconds;
 * at the end, what was downloaded in how long. The job's log and the CLI's own lines go through
 * `around`, which clears the updating line first and draws it again after a whole line.
 */
import type { JobProgressEvent } from '../../jobs/schema.js';
import { formatDownload, formatDuration, formatRate, pullLine } from '../../images/figures.js';

/** How often a line is printed where stderr is not a terminal. */
export const PLAIN_EVERY_MS = 5000;
const CLEAR = '\r\x1b[K';

export class PullProgressPrinter {
  private last: JobProgressEvent | null = null;
  private firstAt = 0;
  private lastAt = 0;
  private lastPrintedAt = -Infinity;
  /** The updating line is on the screen (terminal only). */
  private shown = false;
  /** How the last pull ended; a stopped one may start again (the owner came back, then left). */
  private ended: 'done' | 'stopped' | null = null;

  constructor(
    private readonly stderr: (text: string) => void,
    private readonly terminal: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  update(event: JobProgressEvent): void {
    if (this.ended === 'done') return;
    const t = this.now();
    if (!this.last || this.ended === 'stopped') {
      this.firstAt = t;
      this.lastAt = t;
      this.lastPrintedAt = -Infinity;
    }
    this.ended = null;
    // The download runs from the last report of nothing yet to the first of its final figure (the
    // manifest comes before, checking the layers after).
    if (!event.bytes) this.firstAt = t;
    if (event.bytes !== this.last?.bytes) this.lastAt = t;
    this.last = event;
    const line = pullLine(event);
    if (this.terminal) {
      this.stderr(`${CLEAR}${line}`);
      this.shown = true;
    } else if (t - this.lastPrintedAt >= PLAIN_EVERY_MS) {
      this.lastPrintedAt = t;
      this.stderr(`${line}\n`);
    }
  }

  /** Writes something else (`write`) without mixing it into the updating line; `lineEnded`: it ended its line, so the progress may be drawn again below it. */
  around(write: () => void, lineEnded: boolean): void {
    if (!this.shown) return write();
    this.stderr(CLEAR);
    this.shown = false;
    write();
    if (lineEnded && this.last && this.ended === null) {
      this.stderr(pullLine(this.last));
      this.shown = true;
    }
  }

  /** The pull is over: 'done' says what was downloaded in how long; 'stopped' leaves the last progress as a line. */
  finish(outcome: 'done' | 'stopped'): void {
    if (this.ended !== null || !this.last) return;
    this.ended = outcome;
    const e = this.last;
    let text = pullLine(e);
    if (outcome === 'done' && e.bytes !== undefined) {
      // Until the last figures, not until the job starts: checking the image and creating its container follow the download.
      const seconds = (this.lastAt - this.firstAt) / 1000;
      const bytes = e.totalBytes ?? e.bytes;
      text = `Pulled the image: ${formatDownload(bytes)} in ${formatDuration(seconds)}${seconds >= 1 ? ` (${formatRate(bytes / seconds)})` : ''}.`;
    } else if (outcome === 'stopped') {
      text = `${text} (stopped)`;
    }
    this.stderr(`${this.shown ? CLEAR : ''}${text}\n`);
    this.shown = false;
  }
}
