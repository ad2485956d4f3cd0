import type { ParsedArgs } from './args.js';

export interface CliIO {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stderr is a terminal (readable log lines there, JSON anywhere else). */
  stderrIsTerminal?: boolean;
}

/** One `offshift` subcommand. `run` returns the process exit code. */
export interface CliCommand {
  name: string;
  /** One line for `offshift help`. */
  summary: string;
  usage: string;
  booleanFlags?: readonly string[];
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}
