/** The command line through node:util's parseArgs (strict), in the shape the commands read. */
import { parseArgs as parseStrict } from 'node:util';
import { AppError } from '../errors.js';

/** Parsed command line: positionals, `--flag value` / `--flag=value` options, repeatable
 *  options as arrays, and everything after `--` kept apart. */
export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
  rest: string[];
}

/** What a command accepts: flags without a value, options with one. Anything else is refused. */
export interface ArgSpec {
  booleans: readonly string[];
  values: readonly string[];
}

/**
 * Strict: an option the command does not declare, a flag given a value (`--json=false`), an
 * option whose value is missing or is another option, and single-dash options (`-x`) are
 * refused with a usage error that lists what the command takes. `--` ends the options.
 */
export function parseArgs(argv: string[], spec: ArgSpec = { booleans: [], values: [] }): ParsedArgs {
  const booleans = ['help', ...spec.booleans];
  const options: Record<string, { type: 'boolean' | 'string'; multiple?: boolean; short?: string }> = {};
  for (const name of booleans) options[name] = { type: 'boolean' };
  options.help = { type: 'boolean', short: 'h' };
  for (const name of spec.values) options[name] = { type: 'string', multiple: true };
  let parsed;
  try {
    parsed = parseStrict({ args: attachValues(argv, new Set(spec.values)), options, strict: true, allowPositionals: true, tokens: true });
  } catch (error) {
    throw usageError(error, spec);
  }
  const out: ParsedArgs = { positionals: [], options: new Map(), flags: new Set(), rest: [] };
  let afterTerminator = false;
  for (const token of parsed.tokens) {
    if (token.kind === 'option-terminator') afterTerminator = true;
    else if (token.kind === 'positional') (afterTerminator ? out.rest : out.positionals).push(token.value);
    else if (token.value === undefined) out.flags.add(token.name);
    else out.options.set(token.name, [...(out.options.get(token.name) ?? []), token.value]);
  }
  return out;
}

/**
 * parseArgs (strict) refuses a value that starts with a dash (`--offset -1`); the commands take
 * them, so `--name value` is written `--name=value` first. A missing value, or another option
 * where the value should be, is refused here.
 */
function attachValues(argv: string[], values: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return [...out, ...argv.slice(i)];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name === undefined || !values.has(name)) {
      out.push(arg);
      continue;
    }
    const value = argv[++i];
    if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new AppError('usage', `--${name} needs a value.`);
    out.push(`--${name}=${value}`);
  }
  return out;
}

/** parseArgs' own errors, said in the CLI's words: which option, and what the command takes. */
function usageError(error: unknown, spec: ArgSpec): Error {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const name = /'(-[^' ]*)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const all = [...spec.booleans, ...spec.values].sort().map((n) => `--${n}`);
    return new AppError('usage', `unknown option ${name}. ${all.length ? `This command takes ${all.join(', ')}` : 'This command takes no options'} (and --help).`);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return new AppError('usage', `${name} takes no value.`);
  return new AppError('usage', message);
}

/**
 * A command's declared options: its `usage` line is the declaration (`[--limit N]`), so what
 * `--help` shows and what the parser accepts cannot drift apart. `--json` is a flag wherever
 * the usage names it (runCli adds it to every command).
 */
export function argSpecFromUsage(usage: string, booleanFlags: readonly string[] = [], extraValues: readonly string[] = []): ArgSpec {
  const named = new Set([...usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!));
  const booleans = new Set(booleanFlags);
  if (named.has('json')) booleans.add('json');
  const values = [...named, ...extraValues].filter((n) => !booleans.has(n));
  return { booleans: [...booleans], values: [...new Set(values)] };
}

export function option(args: ParsedArgs, name: string): string | undefined {
  const list = args.options.get(name);
  return list?.[list.length - 1];
}

export function numberOption(args: ParsedArgs, name: string): number | undefined {
  const raw = option(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new AppError('usage', `--${name} must be a number, not "${raw}".`);
  return n;
}
