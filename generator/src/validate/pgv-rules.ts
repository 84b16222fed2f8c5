// protoc-gen-validate (PGV) rules as Envoy enforces them when it loads a config, read from the
// `validate.rules` / `validate.required` / `validate.disabled` options of the descriptors and
// compiled once per field, oneof or message into small check functions.
//
// A check sees a value normalized by the JSON walker: string, boolean, number (32-bit integers,
// floats), bigint (64-bit integers; Duration and Timestamp as nanoseconds), enum number,
// Uint8Array (bytes) or, for google.protobuf.Any, the type URL. The rule messages are proto2:
// a rule exists only when its field is set (isFieldSet), never because of a default value.
import { isIPv4, isIPv6 } from 'node:net';
import {
  type DescEnum,
  type DescField,
  type DescMessage,
  type DescOneof,
  getOption,
  hasOption,
  isFieldSet,
  type Message,
} from '@bufbuild/protobuf';
import {
  disabled,
  type FieldRules,
  FieldRulesSchema,
  required,
  rules,
} from '../../../common/envoy-api/gen/validate/validate_pb.js';

export type Report = (message: string) => void;
/** Checks one normalized value and reports every rule it breaks. */
export type ValueCheck = (value: unknown, report: Report) => void;

export interface ListRules {
  min?: number;
  max?: number;
  unique: boolean;
  /** Rules for each item (`repeated.items`). */
  item?: ValueCheck;
  /** `repeated.items.message.skip`: no rules inside the items. */
  itemSkip: boolean;
}

export interface MapRules {
  min?: number;
  max?: number;
  key?: ValueCheck;
  value?: ValueCheck;
  valueSkip: boolean;
}

export interface FieldRulePlan {
  /** The (message) field must be set: message/duration/timestamp/any `required`. */
  required: boolean;
  /** `message.skip`: no rules inside this message. */
  skip: boolean;
  value?: ValueCheck;
  list?: ListRules;
  map?: MapRules;
}

type Num = number | bigint;
type Atom = (value: never) => string | undefined;
type RuleValues = Map<string, unknown>;

const fieldPlans = new WeakMap<DescField, FieldRulePlan | null>();

/** The compiled rules of a field, or undefined if it has none. Cached per field. */
export function fieldRules(field: DescField): FieldRulePlan | undefined {
  let plan = fieldPlans.get(field);
  if (plan === undefined) {
    plan = hasOption(field, rules) ? compileField(getOption(field, rules), field.enum) : null;
    fieldPlans.set(field, plan);
  }
  return plan ?? undefined;
}

/** `(validate.required) = true` on a oneof: one member must be set. */
export function oneofRequired(oneof: DescOneof): boolean {
  return hasOption(oneof, required) && getOption(oneof, required);
}

/** `(validate.disabled) = true` on a message: none of its rules apply. */
export function messageDisabled(message: DescMessage): boolean {
  return hasOption(message, disabled) && getOption(message, disabled);
}

/** The set fields of a proto2 rules message, by proto field name. */
function setValues(msg: Message, schema: DescMessage): RuleValues {
  const out: RuleValues = new Map();
  const rec = msg as unknown as Record<string, unknown>;
  for (const f of schema.fields) {
    if (!isFieldSet(msg, f)) continue;
    out.set(f.name, f.oneof ? (rec[f.oneof.localName] as { value: unknown }).value : rec[f.localName]);
  }
  return out;
}

function typeRules(fr: FieldRules): { kind: string; values: RuleValues } | undefined {
  const kind = fr.type.case;
  if (kind === undefined) return undefined;
  const schema = FieldRulesSchema.field[kind]?.message;
  return schema ? { kind, values: setValues(fr.type.value, schema) } : undefined;
}

/** Compiles one `validate.rules` value (exported for tests; use fieldRules for descriptors). */
export function compileField(fr: FieldRules, enumDesc: DescEnum | undefined): FieldRulePlan {
  const msg = fr.message ? setValues(fr.message, FieldRulesSchema.field.message.message!) : new Map();
  const plan: FieldRulePlan = { required: msg.get('required') === true, skip: msg.get('skip') === true };
  const t = typeRules(fr);
  if (!t) return plan;
  const v = t.values;
  if (t.kind === 'repeated') {
    const items = v.get('items') as FieldRules | undefined;
    plan.list = {
      min: num(v.get('min_items')),
      max: num(v.get('max_items')),
      unique: v.get('unique') === true,
      item: items ? compileValue(items, enumDesc) : undefined,
      itemSkip: items?.message?.skip === true,
    };
  } else if (t.kind === 'map') {
    const keys = v.get('keys') as FieldRules | undefined;
    const values = v.get('values') as FieldRules | undefined;
    plan.map = {
      min: num(v.get('min_pairs')),
      max: num(v.get('max_pairs')),
      key: keys ? compileValue(keys, undefined) : undefined,
      value: values ? compileValue(values, enumDesc) : undefined,
      valueSkip: values?.message?.skip === true,
    };
  } else {
    if (v.get('required') === true) plan.required = true; // duration, timestamp, any
    plan.value = compileValue(fr, enumDesc);
  }
  return plan;
}

function num(v: unknown): number | undefined {
  return v === undefined ? undefined : Number(v);
}

/** The check for a singular value (also a list item, map key or map value). */
function compileValue(fr: FieldRules, enumDesc: DescEnum | undefined): ValueCheck | undefined {
  const t = typeRules(fr);
  if (!t) return undefined;
  const v = t.values;
  let atoms: Atom[];
  switch (t.kind) {
    case 'string':
      return stringCheck(v);
    case 'bytes':
      atoms = bytesAtoms(v);
      break;
    case 'bool':
      atoms = v.has('const') ? [(b: boolean) => (b === v.get('const') ? undefined : `must be ${v.get('const')}`)] : [];
      break;
    case 'enum':
      atoms = enumAtoms(v, enumDesc);
      break;
    case 'duration':
      atoms = numberAtoms(v, durationNanos, formatDuration);
      break;
    case 'timestamp':
      atoms = numberAtoms(v, durationNanos, (n) => new Date(Number(n / 1_000_000n)).toISOString());
      break;
    case 'any':
      atoms = anyAtoms(v);
      break;
    case 'repeated':
    case 'map':
      return undefined;
    case 'float': // float32 values and bounds: show them the way they were written
      atoms = numberAtoms(
        v,
        (x) => x as Num,
        (n: number) => String(Number(n.toPrecision(7))),
      );
      break;
    default:
      atoms = numberAtoms(v, (x) => x as Num, String);
  }
  return runAtoms(atoms);
}

function runAtoms(atoms: Atom[]): ValueCheck | undefined {
  if (atoms.length === 0) return undefined;
  return (value, report) => {
    for (const atom of atoms) {
      const msg = atom(value as never);
      if (msg !== undefined) report(msg);
    }
  };
}

// ---- numbers, durations, timestamps ------------------------------------------------------------

function durationNanos(d: unknown): bigint {
  const { seconds, nanos } = d as { seconds: bigint; nanos: number };
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}

export function formatDuration(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${sign}${abs / 1_000_000_000n}${frac ? `.${frac}` : ''}s`;
}

function numberAtoms(v: RuleValues, conv: (x: unknown) => Num, fmt: (n: never) => string): Atom[] {
  const get = (k: string) => (v.has(k) ? conv(v.get(k)) : undefined);
  const show = fmt as (n: Num) => string;
  const atoms: Atom[] = [];
  const c = get('const');
  if (c !== undefined) atoms.push((n: Num) => (n === c ? undefined : `must equal ${show(c)}`));
  const range = rangeAtom(get('gt'), get('gte'), get('lt'), get('lte'), show);
  if (range) atoms.push(range);
  const list = (k: string) => ((v.get(k) as unknown[] | undefined) ?? []).map(conv);
  atoms.push(...inAtoms(list('in'), list('not_in'), show));
  return atoms;
}

function rangeAtom(
  gt: Num | undefined,
  gte: Num | undefined,
  lt: Num | undefined,
  lte: Num | undefined,
  show: (n: Num) => string,
): Atom | undefined {
  const lo = gt ?? gte;
  const hi = lt ?? lte;
  const loText = lo === undefined ? '' : `greater than ${gt === undefined ? 'or equal to ' : ''}${show(lo)}`;
  const hiText = hi === undefined ? '' : `less than ${lt === undefined ? 'or equal to ' : ''}${show(hi)}`;
  const aboveLo = (n: Num) => lo === undefined || (gt !== undefined ? n > lo : n >= lo);
  const belowHi = (n: Num) => hi === undefined || (lt !== undefined ? n < hi : n <= hi);
  if (lo === undefined && hi === undefined) return undefined;
  if (lo === undefined) return (n: Num) => (belowHi(n) ? undefined : `must be ${hiText}`);
  if (hi === undefined) return (n: Num) => (aboveLo(n) ? undefined : `must be ${loText}`);
  if (hi > lo) {
    const text =
      gte !== undefined && lte !== undefined
        ? `must be between ${show(gte)} and ${show(lte)}`
        : `must be ${loText} and ${hiText}`;
    return (n: Num) => (aboveLo(n) && belowHi(n) ? undefined : text);
  }
  // lt/lte below gt/gte: an exclusive range, the value must lie outside it.
  return (n: Num) => (aboveLo(n) || belowHi(n) ? undefined : `must be ${hiText} or ${loText}`);
}

function inAtoms<T>(ins: T[], notIns: T[], show: (x: T) => string): Atom[] {
  const atoms: Atom[] = [];
  if (ins.length > 0) {
    const set = new Set(ins);
    const text = `must be one of [${ins.map(show).join(', ')}]`;
    atoms.push((x: T) => (set.has(x) ? undefined : text));
  }
  if (notIns.length > 0) {
    const set = new Set(notIns);
    atoms.push((x: T) => (set.has(x) ? `must not be ${show(x)}` : undefined));
  }
  return atoms;
}

// ---- enums, Any, bytes, bools --------------------------------------------------------------

function enumAtoms(v: RuleValues, desc: DescEnum | undefined): Atom[] {
  const show = (n: number) => {
    const name = desc?.values.find((e) => e.number === n)?.name;
    return name ? `${name} (${n})` : String(n);
  };
  const atoms: Atom[] = [];
  if (v.has('const')) {
    const c = v.get('const') as number;
    atoms.push((n: number) => (n === c ? undefined : `must be ${show(c)}`));
  }
  if (v.get('defined_only') === true && desc) {
    const defined = new Set(desc.values.map((e) => e.number));
    atoms.push((n: number) => (defined.has(n) ? undefined : `${n} is not a defined value of ${desc.typeName}`));
  }
  const list = (k: string) => (v.get(k) as number[] | undefined) ?? [];
  atoms.push(...inAtoms(list('in'), list('not_in'), show));
  return atoms;
}

function anyAtoms(v: RuleValues): Atom[] {
  const ins = (v.get('in') as string[] | undefined) ?? [];
  const notIns = (v.get('not_in') as string[] | undefined) ?? [];
  const atoms: Atom[] = [];
  if (ins.length > 0) {
    const text = `type must be one of [${ins.join(', ')}]`;
    atoms.push((url: string) => (ins.includes(url) ? undefined : text));
  }
  if (notIns.length > 0) atoms.push((url: string) => (notIns.includes(url) ? `type ${url} is not allowed` : undefined));
  return atoms;
}

function bytesAtoms(v: RuleValues): Atom[] {
  const atoms: Atom[] = [];
  const len = num(v.get('len'));
  const min = num(v.get('min_len'));
  const max = num(v.get('max_len'));
  if (len !== undefined) atoms.push((b: Uint8Array) => (b.length === len ? undefined : `must be ${len} bytes long`));
  if (min !== undefined) atoms.push((b: Uint8Array) => (b.length >= min ? undefined : `must be at least ${min} bytes`));
  if (max !== undefined) atoms.push((b: Uint8Array) => (b.length <= max ? undefined : `must be at most ${max} bytes`));
  const ipLens = v.get('ip') ? [4, 16] : v.get('ipv4') ? [4] : v.get('ipv6') ? [16] : undefined;
  if (ipLens) {
    const kind = v.get('ip') ? 'IP' : v.get('ipv4') ? 'IPv4' : 'IPv6';
    atoms.push((b: Uint8Array) => (ipLens.includes(b.length) ? undefined : `must be an ${kind} address`));
  }
  return atoms;
}

// ---- strings ------------------------------------------------------------------------------------

// protoc-gen-validate's well-known regexes (strict: RFC 7230; loose: only NUL, CR and LF excluded).
// PGV writes the name class as `*+-.`, a range that also admits `,`; kept as Envoy enforces it.
const HEADER_NAME = /^:?[0-9a-zA-Z!#$%&'*+,\-.^_|~`]+$/;
const HEADER_VALUE = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff || i === 0 || (s.charCodeAt(i - 1) & 0xfc00) !== 0xd800) n++;
  }
  return n;
}

function isHostname(s: string): boolean {
  const host = s.endsWith('.') ? s.slice(0, -1) : s;
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((l) => /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(l));
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-/:-@[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** An RE2 pattern as a JS RegExp, or undefined if JS cannot compile it (then the rule is skipped). */
export function re2ToRegExp(pattern: string): RegExp | undefined {
  let source = pattern
    .replace(/\(\?P</g, '(?<')
    .replace(/\\A/g, '^')
    .replace(/\\z/g, '$')
    .replace(/\\([pP])([A-Za-z])/g, '\\$1{$2}')
    .replace(/\[:(\^?)([a-z]+):\]/g, (all, neg: string, name: string) => {
      const cls = POSIX_CLASSES[name];
      return cls === undefined || neg ? all : cls;
    });
  if (/\[:\^?[a-z]+:\]|\\[CQE]/.test(source)) return undefined;
  let flags = '';
  const inline = /^\(\?([ims]+)\)/.exec(source);
  if (inline) {
    flags = inline[1];
    source = source.slice(inline[0].length);
  }
  // Without the unicode flag `\p{L}` would silently mean "p{L}": then only the flagged form counts.
  const tries = /\\[pP]\{/.test(source) ? [`${flags}u`] : [`${flags}u`, flags];
  for (const f of tries) {
    try {
      return new RegExp(source, f);
    } catch {
      // Not valid with the unicode flag (e.g. `\-` outside a class): try without it.
    }
  }
  return undefined;
}

function stringCheck(v: RuleValues): ValueCheck | undefined {
  const atoms: Atom[] = [];
  const str = (k: string) => v.get(k) as string | undefined;
  const quote = (s: string) => JSON.stringify(s);
  const c = str('const');
  if (c !== undefined) atoms.push((s: string) => (s === c ? undefined : `must equal ${quote(c)}`));
  const lengths: [string, string, (s: string) => number, (a: number, b: number) => boolean, string][] = [
    ['len', 'length must be', codePoints, (a, b) => a === b, 'exactly'],
    ['min_len', 'length must be', codePoints, (a, b) => a >= b, 'at least'],
    ['max_len', 'length must be', codePoints, (a, b) => a <= b, 'at most'],
    ['len_bytes', 'byte length must be', (s) => Buffer.byteLength(s, 'utf8'), (a, b) => a === b, 'exactly'],
    ['min_bytes', 'byte length must be', (s) => Buffer.byteLength(s, 'utf8'), (a, b) => a >= b, 'at least'],
    ['max_bytes', 'byte length must be', (s) => Buffer.byteLength(s, 'utf8'), (a, b) => a <= b, 'at most'],
  ];
  for (const [key, what, measure, ok, how] of lengths) {
    const n = num(v.get(key));
    if (n !== undefined) atoms.push((s: string) => (ok(measure(s), n) ? undefined : `${what} ${how} ${n}`));
  }
  const pattern = str('pattern');
  const re = pattern === undefined ? undefined : re2ToRegExp(pattern);
  if (re) atoms.push((s: string) => (re.test(s) ? undefined : `must match pattern ${quote(pattern!)}`));
  const affixes: [string, (s: string, a: string) => boolean, string][] = [
    ['prefix', (s, a) => s.startsWith(a), 'must start with'],
    ['suffix', (s, a) => s.endsWith(a), 'must end with'],
    ['contains', (s, a) => s.includes(a), 'must contain'],
    ['not_contains', (s, a) => !s.includes(a), 'must not contain'],
  ];
  for (const [key, ok, text] of affixes) {
    const a = str(key);
    if (a !== undefined) atoms.push((s: string) => (ok(s, a) ? undefined : `${text} ${quote(a)}`));
  }
  const list = (k: string) => (v.get(k) as string[] | undefined) ?? [];
  atoms.push(...inAtoms(list('in'), list('not_in'), quote));
  const wellKnown = wellKnownAtom(v);
  if (wellKnown) atoms.push(wellKnown);
  const check = runAtoms(atoms);
  if (!check || v.get('ignore_empty') !== true) return check;
  return (value, report) => {
    if (value !== '') check(value, report);
  };
}

function wellKnownAtom(v: RuleValues): Atom | undefined {
  const test = (ok: (s: string) => boolean, text: string): Atom => {
    return (s: string) => (ok(s) ? undefined : text);
  };
  if (v.get('hostname')) return test(isHostname, 'must be a valid hostname');
  if (v.get('ip')) return test((s) => isIPv4(s) || isIPv6(s), 'must be a valid IP address');
  if (v.get('ipv4')) return test(isIPv4, 'must be a valid IPv4 address');
  if (v.get('ipv6')) return test(isIPv6, 'must be a valid IPv6 address');
  if (v.get('address')) return test((s) => isIPv4(s) || isIPv6(s) || isHostname(s), 'must be a valid hostname or IP');
  if (v.get('uuid')) return test((s) => UUID.test(s), 'must be a valid UUID');
  const known = v.get('well_known_regex');
  const strict = v.get('strict') !== false; // proto2 default: true
  if (known === 1) {
    return strict
      ? test((s) => HEADER_NAME.test(s), 'must be a valid HTTP header name')
      : test((s) => HEADER_LOOSE.test(s), 'must not contain NUL, CR or LF');
  }
  if (known === 2) {
    return strict
      ? test((s) => HEADER_VALUE.test(s), 'must be a valid HTTP header value (no control characters)')
      : test((s) => HEADER_LOOSE.test(s), 'must not contain NUL, CR or LF');
  }
  return undefined;
}
