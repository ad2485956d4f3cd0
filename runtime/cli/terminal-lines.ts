/**
 * A job's streamed log on the terminal's two outputs. The job's output may stop mid-line; the
 * next thing written (the other stream, an agent line, the final result) must not run into it.
 * The separating newline always goes to stderr, so stdout holds exactly the job's bytes (or,
 * with --json, the result line alone).
 */
import type { CliIO } from './command.js';

export class TerminalLines {
  private last: 'stdout' | 'stderr' | null = null;
  /** The last write did not end its line. */
  private open = false;

  constructor(private readonly io: Pick<CliIO, 'stdout' | 'stderr'>) {}

  write(to: 'stdout' | 'stderr', text: string): void {
    if (!text) return;
    if (this.open && this.last !== to) this.io.stderr('\n');
    this.io[to](text);
    this.last = to;
    this.open = !text.endsWith('\n');
  }

  /** Ends a line left open (on stderr), before a result or a message of the CLI's own. */
  endLine(): void {
    if (this.open) this.io.stderr('\n');
    this.open = false;
  }
}
