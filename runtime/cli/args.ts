import { AppError } from '../api/errors.js';

/** Parsed command line: positionals, `--flag value` / `--flag=value` options, repeatable
 *  options as arrays, and everything after `--` kept apart. */
export interface ParsedArgs {
  positionals: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
  rest: string[];
}

/**
 * `booleanFlags` never take a value (e.g. `--json`). Any other `--name` takes the next
 * argument as its value.
 */
export function parseArgs(argv: string[], booleanFlags: readonly string[] = []): ParsedArgs {
  const out: ParsedArgs = { positionals: [], options: new Map(), flags: new Set(), rest: [] };
  const booleans = new Set(['json', 'help', ...booleanFlags]);
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
        out.flags.add(name);
        continue;
      }
      let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new AppError('usage', `--${name} needs a value.`);
      }
      const list = out.options.get(name) ?? [];
      list.push(value);
      out.options.set(name, list);
    } else {
      out.positionals.push(arg);
    }
  }
  return out;
}

export function option(args: ParsedArgs, name: string): string | undefined {
  const list = args.options.get(name);
  return list?.[list.length - 1];
}

export function numberOption(args: ParsedArgs, name: string): number | undefined {
  const raw = option(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new AppError('usage', `--${name} must be a number, not "${raw}".`);
  return n;
}
