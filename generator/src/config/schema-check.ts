// Checks the parsed gateway.yaml against the JSON Schema and turns ajv's errors into one clear
// message per problem, each naming the field and pointing at its line and column.
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Diagnostic } from '../errors.js';
import { gatewaySchema } from './schema.js';
import { ajvOptions, xHint } from './schema-validator-options.js';
import { diagnosticAt, formatPath, type GatewaySource, type PathSegment } from './source.js';

/** The schema compiled at run time (what the build compiles ahead of time, see below). */
export async function compileGatewayValidator(): Promise<ValidateFunction> {
  const { Ajv } = await import('ajv');
  const ajv = new Ajv(ajvOptions);
  ajv.addKeyword(xHint);
  return ajv.compile(gatewaySchema);
}

/** The validator `npm run build` compiled ahead of time into dist/, if this is dist/. */
export async function prebuiltGatewayValidator(): Promise<ValidateFunction | undefined> {
  const file = './gateway-schema-validate.js'; // written by scripts/build-gateway-validator.mjs
  try {
    return ((await import(file)) as { default: ValidateFunction }).default;
  } catch {
    return undefined; // the TypeScript sources (tests): compile it here
  }
}

const validate = (await prebuiltGatewayValidator()) ?? (await compileGatewayValidator());

function toPath(instancePath: string): PathSegment[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function message(e: ErrorObject): { path: PathSegment[]; text: string; key: boolean } {
  const path = toPath(e.instancePath);
  const where = formatPath(path) || 'top level';
  const hint = (e.parentSchema as Record<string, unknown> | undefined)?.['x-hint'];
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = String(e.params.additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      return {
        path: [...path, field],
        key: true,
        text: `${formatPath([...path, field])}: unknown field "${field}"${allowed.length ? ` (expected one of: ${allowed.join(', ')})` : ''}`,
      };
    }
    case 'required':
      return { path, key: false, text: `${where}: missing required field "${e.params.missingProperty}"` };
    case 'type':
      return {
        path,
        key: false,
        text: `${where}: must be ${article(String(e.params.type))}, not ${describe(e.data)}${e.params.type === 'string' && typeof e.data === 'number' ? ' (put it in quotes)' : ''}`,
      };
    case 'enum':
      return {
        path,
        key: false,
        text: `${where}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${describe(e.data)}`,
      };
    case 'const':
      return { path, key: false, text: `${where}: must be ${JSON.stringify(e.params.allowedValue)}` };
    case 'pattern':
      return {
        path,
        key: false,
        text: `${where}: ${JSON.stringify(e.data)} is not ${hint ?? `matching ${e.params.pattern}`}`,
      };
    case 'propertyNames':
      return { path, key: false, text: `${where}: invalid name ${JSON.stringify(e.params.propertyName)}` };
    case 'minItems':
      return { path, key: false, text: `${where}: needs at least ${e.params.limit} item(s)` };
    case 'uniqueItems':
      return { path, key: false, text: `${where}: items ${e.params.j} and ${e.params.i} are the same` };
    case 'minimum':
    case 'maximum':
      return { path, key: false, text: `${where}: ${e.data} is out of range (${e.message})` };
    case 'minLength':
      return { path, key: false, text: `${where}: must not be empty` };
    default:
      return { path, key: false, text: `${where}: ${e.message}` };
  }
}

function article(type: string): string {
  const words: Record<string, string> = {
    object: 'a map',
    array: 'a list',
    integer: 'an integer',
    string: 'a string',
    boolean: 'true or false',
    number: 'a number',
  };
  return type
    .split(',')
    .map((t) => words[t] ?? t)
    .join(' or ');
}

/**
 * ajv reports every failed branch of an `anyOf`; keep only the errors of the branch that fits
 * the value's type best, and the generic "must match a schema in anyOf" only when nothing
 * more specific was said about that place.
 */
function prune(errors: ErrorObject[]): ErrorObject[] {
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf');
  let kept = errors.filter((e) => e.keyword !== 'anyOf');
  for (const a of anyOfPaths) {
    const inside = kept.filter(
      (e) => e.schemaPath.startsWith(`${a.schemaPath}/`) && e.instancePath.startsWith(a.instancePath),
    );
    const specific = inside.filter(
      (e) =>
        e.instancePath !== a.instancePath || (e.keyword !== 'type' && e.keyword !== 'const' && e.keyword !== 'enum'),
    );
    if (specific.length) {
      kept = kept.filter((e) => !inside.includes(e) || specific.includes(e));
    } else {
      kept = kept.filter((e) => !inside.includes(e));
      const allowed = inside.flatMap((e) =>
        e.keyword === 'const'
          ? [JSON.stringify(e.params.allowedValue)]
          : e.keyword === 'enum'
            ? (e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v))
            : [article(String(e.params.type))],
      );
      kept.push({
        ...a,
        keyword: 'x-any-of',
        message: `must be ${[...new Set(allowed)].join(' or ')}, not ${describe(a.data)}`,
      });
    }
  }
  return kept;
}

export function checkSchema(src: GatewaySource): Diagnostic[] {
  if (validate(src.value)) return [];
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const e of prune(validate.errors ?? [])) {
    const m = message(e);
    if (seen.has(m.text)) continue;
    seen.add(m.text);
    out.push(diagnosticAt(src, m.path, m.text, m.key));
  }
  return out;
}
