/**
 * The commands' loggers on stderr: readable lines for a person at a terminal, JSON for pipes,
 * files and services, or what `--log-format` / OFFSHIFT_LOG_FORMAT asks for.
 */
import { AppError } from '../errors.js';
import { createLogger, logFormatFor, silentLogger, type LogLevel, type Logger } from '../log.js';
import { option, type ParsedArgs } from './args.js';
import type { CliIO } from './command.js';

const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'];

/** OFFSHIFT_LOG_LEVEL when it names a level, else `fallback`. */
export function cliLogger(io: CliIO, fallback: LogLevel = 'info', args?: ParsedArgs): Logger {
  const asked = io.env.OFFSHIFT_LOG_LEVEL;
  const level = asked && LEVELS.includes(asked) ? (asked as LogLevel) : fallback;
  const format = args ? option(args, 'log-format') : undefined;
  if (format !== undefined && format !== 'json' && format !== 'pretty') throw new AppError('usage', `--log-format is json or pretty, not "${format}".`);
  return createLogger((line) => io.stderr(line), level, format ?? logFormatFor(io.env, io.stderrIsTerminal));
}

/** Silent unless OFFSHIFT_LOG_LEVEL=debug (the commands that only print a result). */
export function debugLogger(io: CliIO): Logger {
  return io.env.OFFSHIFT_LOG_LEVEL === 'debug' ? cliLogger(io, 'debug') : silentLogger;
}
