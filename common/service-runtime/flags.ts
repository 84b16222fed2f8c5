// Command-line flags for the services: `--name value`, `--name=value`, booleans as `--name`,
// `--name=false` or `--no-name`. Precedence: flag > environment variable > default.

export type FlagType = 'string' | 'int' | 'bool' | 'port';

export interface FlagSpec {
  /** The flag name, with or without the leading `--` (e.g. 'grpc-port'). */
  flag: string;
  /** Environment variable read when the flag is absent (an empty value counts as unset). */
  env?: string;
  /** 'port' is an int in 0..65535; an 'int' flag whose name ends in "port" is checked the same way. */
  type: FlagType;
  /** Used when neither the flag nor the env var is given. A string is parsed like a flag value. */
  default?: unknown;
  /** Fail when no value comes from flag, env or default. */
  required?: boolean;
  help: string;
}

export type FlagsSpec<T> = Record<keyof T, FlagSpec>;

export class FlagError extends Error {
  /** True when -h/--help was given: print usageText(spec) and exit 0. */
  readonly helpRequested: boolean;

  constructor(message: string, helpRequested = false) {
    super(message);
    this.name = 'FlagError';
    this.helpRequested = helpRequested;
  }
}

/**
 * Parses argv (without the node binary and script, i.e. process.argv.slice(2)) against the spec.
 * Throws FlagError on unknown flags, positional arguments, missing or malformed values.
 */
export function parseFlags<T>(
  argv: string[],
  spec: FlagsSpec<T>,
  env: Record<string, string | undefined> = process.env,
): T {
  const keys = Object.keys(spec) as (keyof T & string)[];
  const byName = new Map<string, keyof T & string>();
  for (const key of keys) {
    const name = flagName(spec[key].flag);
    if (byName.has(name)) throw new Error(`flag spec: --${name} declared twice`);
    byName.set(name, key);
  }

  const given = new Map<keyof T & string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help' || arg === '-help') throw new FlagError('help requested', true);
    if (arg === '--') {
      if (i + 1 < argv.length) throw new FlagError(`unexpected argument: ${JSON.stringify(argv[i + 1])}`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') throw new FlagError(`unexpected argument: ${JSON.stringify(arg)}`);

    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    let name = eq === -1 ? body : body.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : body.slice(eq + 1);

    let key = byName.get(name);
    if (key === undefined && name.startsWith('no-') && value === undefined) {
      const positive = byName.get(name.slice(3));
      if (positive !== undefined && spec[positive].type === 'bool') {
        key = positive;
        name = name.slice(3);
        value = 'false';
      }
    }
    if (key === undefined) throw new FlagError(`unknown flag: --${name}`);

    if (value === undefined) {
      if (spec[key].type === 'bool') {
        value = 'true';
      } else {
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new FlagError(`--${name}: missing value`);
        value = next;
        i++;
      }
    }
    given.set(key, value);
  }

  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const s = spec[key];
    const name = flagName(s.flag);
    const fromFlag = given.get(key);
    if (fromFlag !== undefined) {
      out[key] = convert(s, name, fromFlag, `--${name}`);
      continue;
    }
    const fromEnv = s.env !== undefined ? env[s.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') {
      out[key] = convert(s, name, fromEnv, `${s.env} (env for --${name})`);
      continue;
    }
    if (s.default !== undefined) {
      out[key] = typeof s.default === 'string' ? convert(s, name, s.default, `--${name} (default)`) : s.default;
      continue;
    }
    if (s.required) {
      throw new FlagError(`--${name}: required${s.env !== undefined ? ` (or set ${s.env})` : ''}`);
    }
    out[key] = undefined;
  }
  return out as T;
}

/** A usage block listing every flag, its env var and default. */
export function usageText<T>(spec: FlagsSpec<T>): string {
  const rows = (Object.keys(spec) as (keyof T)[]).map((key) => {
    const s = spec[key];
    const name = flagName(s.flag);
    const left = s.type === 'bool' ? `--${name}` : `--${name} <${s.type === 'port' ? 'port' : s.type}>`;
    const notes: string[] = [];
    if (s.env !== undefined) notes.push(`env ${s.env}`);
    if (s.default !== undefined) notes.push(`default ${JSON.stringify(s.default)}`);
    if (s.required) notes.push('required');
    return { left, right: notes.length > 0 ? `${s.help} (${notes.join(', ')})` : s.help };
  });
  const width = Math.max(0, ...rows.map((r) => r.left.length));
  const lines = rows.map((r) => `  ${r.left.padEnd(width)}  ${r.right}`);
  lines.push(`  ${'-h, --help'.padEnd(width)}  Show this help`);
  return `Flags:\n${lines.join('\n')}\n`;
}

function flagName(flag: string): string {
  return flag.replace(/^-+/, '');
}

function convert(s: FlagSpec, name: string, raw: string, source: string): unknown {
  switch (s.type) {
    case 'string':
      return raw;
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new FlagError(`${source}: not a boolean: ${JSON.stringify(raw)}`);
    }
    case 'int':
    case 'port': {
      const isPort = s.type === 'port' || /(^|-)port$/.test(name);
      const v = raw.trim();
      const n = /^[+-]?\d+$/.test(v) ? Number(v) : Number.NaN;
      if (isPort) {
        if (!Number.isInteger(n) || n < 0 || n > 65535)
          throw new FlagError(`${source}: not a port number: ${JSON.stringify(raw)}`);
        return n;
      }
      if (!Number.isSafeInteger(n)) throw new FlagError(`${source}: not an integer: ${JSON.stringify(raw)}`);
      return n;
    }
    default:
      throw new Error(`flag spec: --${name} has unknown type ${JSON.stringify(s.type)}`);
  }
}

/**
 * parseFlags for a service's main: on a bad flag prints `<service>: <problem>` and the usage and
 * exits 2; on --help prints the usage and exits 0. Never a stack trace for a user mistake.
 */
export function parseFlagsOrExit<T>(service: string, argv: string[], spec: FlagsSpec<T>): T {
  try {
    return parseFlags<T>(argv, spec);
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    if (e.helpRequested) {
      console.log(`usage: ${service} [flags]\n\n${usageText(spec)}`);
      process.exit(0);
    }
    console.error(`${service}: ${e.message}\n\n${usageText(spec)}`);
    process.exit(2);
  }
}
