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
  const out: ParsedArgs = { positionals: [], options: new Map(), flags: new Set(), rest: [] };
  const booleans = new Set(['help', ...spec.booleans]);
  const values = new Set(spec.values);
  const unknown = (name: string) => {
    const all = [...booleans, ...values].filter((n) => n !== 'help').sort().map((n) => `--${n}`);
    return new AppError('usage', `unknown option ${name}. ${all.length ? `This command takes ${all.join(', ')}` : 'This command takes no options'} (and --help).`);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.rest = argv.slice(i + 1);
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (booleans.has(name)) {
        if (eq !== -1) throw new AppError('usage', `--${name} takes no value.`);
        out.flags.add(name);
        continue;
      }
      if (!values.has(name)) throw unknown(`--${name}`);
      let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new AppError('usage', `--${name} needs a value.`);
      }
      const list = out.options.get(name) ?? [];
      list.push(value);
      out.options.set(name, list);
    } else if (arg === '-h') {
      out.flags.add('help');
    } else if (arg.length > 1 && arg.startsWith('-') && !/^-\d/.test(arg)) {
      throw unknown(arg);
    } else {
      out.positionals.push(arg);
    }
  }
  return out;
}

/**
 * A command's declared options: its `usage` line is the declaration (`[--limit N]`), so what
 * `--help` shows and what the parser accepts cannot drift apart. `--json` is accepted only
 * where the usage offers it.
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
