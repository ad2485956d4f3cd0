/**
 * Structured logs through pino: one JSON object a line for files, services and pipes, readable
 * lines on a terminal (log-lines.ts), never a secret.
 */
import { pino } from 'pino';
import { readableLogLine } from './log-lines.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** `json` for files, services and pipes; `pretty` for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Matched against every key at any depth: pino's own redaction takes fixed paths only. */
const SECRET_KEY = /pass(word|phrase)?|secret|private|mnemonic|seed|token|signature|authorization/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') {
    return typeof value === 'bigint' ? value.toString() : value;
  }
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

/**
 * Lines read `{"level":"info","t":"<ISO time>","msg":"…",<fields>}`: the message first, then
 * its fields (tests and people grep for `"msg":"job state","id":…`).
 */
export function createLogger(write: (line: string) => void = (l) => process.stderr.write(l), minLevel: LogLevel = 'info', format: LogFormat = 'json'): Logger {
  const destination = { write: format === 'pretty' ? (line: string) => write(readableLogLine(line)) : write };
  const logger = pino(
    {
      level: minLevel,
      base: null,
      // redact() has already made errors plain { name, message }: pino's err serializer would add an empty stack.
      serializers: { err: (value: unknown) => value },
      timestamp: () => `,"t":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }), log: (fields) => redact(fields) as Record<string, unknown> },
    },
    destination,
  );
  return {
    debug: (msg, fields) => logger.debug({ msg, ...fields }),
    info: (msg, fields) => logger.info({ msg, ...fields }),
    warn: (msg, fields) => logger.warn({ msg, ...fields }),
    error: (msg, fields) => logger.error({ msg, ...fields }),
  };
}

/** OFFSHIFT_LOG_FORMAT when set, else readable lines on a terminal and JSON anywhere else. */
export function logFormatFor(env: NodeJS.ProcessEnv, isTerminal: boolean | undefined): LogFormat {
  const chosen = env.OFFSHIFT_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  return isTerminal ? 'pretty' : 'json';
}

/** A process's own logger on its stderr, at OFFSHIFT_LOG_LEVEL=debug or info. */
export function stderrLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  const write = (line: string) => void process.stderr.write(line);
  return createLogger(write, env.OFFSHIFT_LOG_LEVEL === 'debug' ? 'debug' : 'info', logFormatFor(env, process.stderr.isTTY));
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
