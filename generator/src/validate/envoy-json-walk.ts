// Walks a proto3 JSON value (the parsed YAML/JSON of an Envoy config) against message descriptors
// and reports every structural problem and protoc-gen-validate rule violation, each with the path
// of the offending value as written in the input (`a.b[0].c`, `typed_config<Router>.x`, `m["k"]`).
// The walker never changes its input.
import {
  type DescEnum,
  type DescField,
  type DescMessage,
  type DescOneof,
  type Registry,
  ScalarType,
} from '@bufbuild/protobuf';
import { base64Decode } from '@bufbuild/protobuf/wire';
import { FeatureSet_FieldPresence } from '@bufbuild/protobuf/wkt';
import {
  fieldRules,
  type ListRules,
  type MapRules,
  messageDisabled,
  oneofRequired,
  type ValueCheck,
} from './pgv-rules.js';
import type { OutputProblem } from './problem.js';

/** Walks `json` as a `desc` message and returns every problem found. */
export function walkMessage(desc: DescMessage, json: unknown, file: string, registry: Registry): OutputProblem[] {
  const walker = new Walker(file, registry);
  walker.message(desc, json, '', true, 0);
  return walker.problems;
}

type JsonObject = Record<string, unknown>;

/** The value could not be read (already reported). */
const INVALID = Symbol('invalid');
/** A message without a value of its own (not a WKT with a JSON form of its own) was read. */
const SET = Symbol('set');

const TYPE_URL_PREFIX = 'type.googleapis.com/';
const MAX_DEPTH = 100;
const MAX_DURATION_SECONDS = 315_576_000_000;
const WRAPPERS = new Set(
  ['Double', 'Float', 'Int64', 'UInt64', 'Int32', 'UInt32', 'Bool', 'String', 'Bytes'].map(
    (t) => `google.protobuf.${t}Value`,
  ),
);
/** WKTs whose JSON form is not an object of their fields (inside an Any they go under "value"). */
const CUSTOM_JSON = new Set([
  ...WRAPPERS,
  'google.protobuf.Any',
  'google.protobuf.Duration',
  'google.protobuf.Timestamp',
  'google.protobuf.FieldMask',
  'google.protobuf.Struct',
  'google.protobuf.Value',
  'google.protobuf.ListValue',
]);

// ---- per-message plan (cached) ------------------------------------------------------------------

interface MessagePlan {
  /** Fields by proto name and by JSON (lowerCamel) name. */
  byKey: Map<string, DescField>;
  disabled: boolean;
  /** Message fields that must be set. */
  required: DescField[];
  /** Fields whose rules apply to their default value when they are absent (proto3 implicit presence). */
  defaults: DescField[];
  requiredOneofs: DescOneof[];
}

const plans = new WeakMap<DescMessage, MessagePlan>();

function messagePlan(desc: DescMessage): MessagePlan {
  let plan = plans.get(desc);
  if (plan) return plan;
  plan = {
    byKey: new Map(),
    disabled: messageDisabled(desc),
    required: [],
    defaults: [],
    requiredOneofs: desc.oneofs.filter(oneofRequired),
  };
  for (const f of desc.fields) {
    plan.byKey.set(f.name, f).set(f.jsonName, f);
    const rules = fieldRules(f);
    if (!rules || f.oneof) continue;
    if (f.fieldKind === 'message') {
      if (rules.required) plan.required.push(f);
    } else if (f.fieldKind === 'list' || f.fieldKind === 'map' || f.presence === FeatureSet_FieldPresence.IMPLICIT) {
      if (rules.value || rules.list || rules.map) plan.defaults.push(f);
    }
  }
  plans.set(desc, plan);
  return plan;
}

const enumNumbers = new WeakMap<DescEnum, Map<string, number>>();

function enumByName(desc: DescEnum): Map<string, number> {
  let map = enumNumbers.get(desc);
  if (!map) {
    map = new Map(desc.values.map((v) => [v.name, v.number]));
    enumNumbers.set(desc, map);
  }
  return map;
}

// ---- small helpers ------------------------------------------------------------------------------

function isObject(v: unknown): v is JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string':
      return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case 'number':
    case 'boolean':
      return `${typeof v} ${v}`;
    case 'object':
      return isObject(v) ? 'object' : `${v.constructor?.name ?? 'non-JSON'} object`;
    default:
      return typeof v;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function mapPath(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? join(path, key) : `${path}[${JSON.stringify(key)}]`;
}

function own(json: JsonObject, key: string): unknown {
  return Object.hasOwn(json, key) ? json[key] : undefined;
}

/** Absent or null: proto3 JSON treats null as "not set". */
function unset(json: JsonObject, f: DescField): boolean {
  return (own(json, f.name) ?? own(json, f.jsonName) ?? null) === null;
}

/** google.protobuf.Value and NullValue are the only types for which null is a value. */
function acceptsNull(f: DescField): boolean {
  return f.message?.typeName === 'google.protobuf.Value' || f.enum?.typeName === 'google.protobuf.NullValue';
}

function scalarName(t: ScalarType): string {
  return ScalarType[t].toLowerCase();
}

function zeroValue(f: DescField): unknown {
  if (f.enum) return 0;
  switch (f.scalar) {
    case ScalarType.STRING:
      return '';
    case ScalarType.BOOL:
      return false;
    case ScalarType.BYTES:
      return new Uint8Array(0);
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 0n;
    default:
      return 0;
  }
}

/** A scalar JSON value that cannot be read; `message` says why. */
class Bad {
  constructor(readonly message: string) {}
}

const INT_STRING = /^-?[0-9]+$/;
const FLOAT_STRING = /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const DURATION = /^(-)?([0-9]+)(?:\.([0-9]{1,9}))?s$/;
const TIMESTAMP =
  /^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})$/;

function readInt(t: ScalarType, json: unknown, min: number, max: number): unknown {
  const n = typeof json === 'string' && INT_STRING.test(json) ? Number(json) : json;
  if (typeof n !== 'number' || !Number.isInteger(n)) return new Bad(`expected ${scalarName(t)}, got ${describe(json)}`);
  return n < min || n > max ? new Bad(`${n} is out of range for ${scalarName(t)}`) : n;
}

function readInt64(t: ScalarType, json: unknown, min: bigint, max: bigint): unknown {
  let n: bigint | undefined;
  if (typeof json === 'string' && INT_STRING.test(json)) n = BigInt(json);
  else if (typeof json === 'number' && Number.isInteger(json)) n = BigInt(json);
  if (n === undefined) return new Bad(`expected ${scalarName(t)}, got ${describe(json)}`);
  return n < min || n > max ? new Bad(`${n} is out of range for ${scalarName(t)}`) : n;
}

function readFloat(t: ScalarType, json: unknown): unknown {
  let n: number | undefined;
  if (json === 'NaN') n = Number.NaN;
  else if (json === 'Infinity') n = Number.POSITIVE_INFINITY;
  else if (json === '-Infinity') n = Number.NEGATIVE_INFINITY;
  else if (typeof json === 'number' && Number.isFinite(json)) n = json;
  else if (typeof json === 'string' && FLOAT_STRING.test(json)) n = Number(json);
  if (n === undefined) return new Bad(`expected ${scalarName(t)}, got ${describe(json)}`);
  if (t !== ScalarType.FLOAT) return n;
  // Compared with float32 rule bounds, as Envoy does.
  const f = Math.fround(n);
  return Number.isFinite(n) && !Number.isFinite(f) ? new Bad(`${n} is out of range for float`) : f;
}

/** Reads a scalar from its proto3 JSON form; 64-bit integers become bigint, bytes a Uint8Array. */
function readScalar(t: ScalarType, json: unknown): unknown {
  switch (t) {
    case ScalarType.STRING:
      return typeof json === 'string' ? json : new Bad(`expected string, got ${describe(json)}`);
    case ScalarType.BOOL:
      return typeof json === 'boolean' ? json : new Bad(`expected boolean, got ${describe(json)}`);
    case ScalarType.BYTES:
      if (typeof json !== 'string' || !BASE64.test(json))
        return new Bad(`expected base64 bytes, got ${describe(json)}`);
      return base64Decode(json);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return readFloat(t, json);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return readInt(t, json, -0x8000_0000, 0x7fff_ffff);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return readInt(t, json, 0, 0xffff_ffff);
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return readInt64(t, json, 0n, 2n ** 64n - 1n);
    default:
      return readInt64(t, json, -(2n ** 63n), 2n ** 63n - 1n);
  }
}

/** Map keys are JSON strings: "true"/"false" for bool, decimal for integers. */
function readMapKey(t: ScalarType, key: string): unknown {
  if (t !== ScalarType.BOOL) return readScalar(t, key);
  return key === 'true' || key === 'false' ? key === 'true' : new Bad('');
}

// ---- the walker ---------------------------------------------------------------------------------

class Walker {
  readonly problems: OutputProblem[] = [];

  constructor(
    private readonly file: string,
    private readonly registry: Registry,
  ) {}

  private report(path: string, message: string): void {
    this.problems.push({ file: this.file, path, message });
  }

  private check(check: ValueCheck, value: unknown, path: string, prefix = ''): void {
    check(value, (message) => this.report(path, prefix + message));
  }

  private counts(path: string, n: number, min: number | undefined, max: number | undefined, unit: string): void {
    const plural = (k: number) => `${k} ${unit}${k === 1 ? '' : 's'}`;
    if (min !== undefined && n < min) this.report(path, `must have at least ${plural(min)}`);
    if (max !== undefined && n > max) this.report(path, `must have at most ${plural(max)}`);
  }

  /** Walks one message value; returns its normalized value (WKTs), SET or INVALID. */
  message(desc: DescMessage, json: unknown, path: string, rules: boolean, depth: number): unknown {
    if (depth > MAX_DEPTH) {
      this.report(path, `nested more than ${MAX_DEPTH} messages deep`);
      return INVALID;
    }
    if (desc.typeName.startsWith('google.protobuf.')) {
      const value = this.wellKnown(desc, json, path, rules, depth);
      if (value !== undefined) return value;
    }
    return this.object(desc, json, path, rules, depth);
  }

  private object(
    desc: DescMessage,
    json: unknown,
    path: string,
    rules: boolean,
    depth: number,
    skip?: string,
  ): unknown {
    if (!isObject(json)) {
      this.report(path, `expected object (${desc.typeName}), got ${describe(json)}`);
      return INVALID;
    }
    const plan = messagePlan(desc);
    const rulesOn = rules && !plan.disabled;
    let oneofs: Map<DescOneof, string> | undefined;
    for (const key of Object.keys(json)) {
      if (key === skip) continue;
      const p = join(path, key);
      const field = plan.byKey.get(key);
      if (field === undefined) {
        this.report(p, `unknown field "${key}" (${desc.typeName})`);
        continue;
      }
      if (key !== field.name && Object.hasOwn(json, field.name)) {
        this.report(p, `field "${field.name}" is set twice (as "${field.name}" and "${key}")`);
        continue;
      }
      const value = json[key];
      if (value === null && !acceptsNull(field)) continue;
      if (field.oneof) {
        oneofs ??= new Map();
        const other = oneofs.get(field.oneof);
        if (other !== undefined) {
          this.report(p, `conflicts with "${other}": only one field of oneof "${field.oneof.name}" may be set`);
        } else {
          oneofs.set(field.oneof, key);
        }
      }
      this.field(field, value, p, rulesOn, depth);
    }
    if (rulesOn) this.absent(plan, json, path);
    return SET;
  }

  /** Rules that concern fields not given: required messages and oneofs, rules on default values. */
  private absent(plan: MessagePlan, json: JsonObject, path: string): void {
    for (const f of plan.required) {
      if (unset(json, f)) this.report(join(path, f.name), 'is required');
    }
    for (const f of plan.defaults) {
      if (!unset(json, f)) continue;
      const rules = fieldRules(f)!;
      const p = join(path, f.name);
      if (rules.list) this.counts(p, 0, rules.list.min, undefined, 'item');
      else if (rules.map) this.counts(p, 0, rules.map.min, undefined, 'pair');
      else if (rules.value) this.check(rules.value, zeroValue(f), p);
    }
    for (const o of plan.requiredOneofs) {
      if (o.fields.every((f) => unset(json, f))) {
        this.report(path, `one of ${o.fields.map((f) => `"${f.name}"`).join(', ')} is required (oneof "${o.name}")`);
      }
    }
  }

  private field(field: DescField, json: unknown, path: string, rules: boolean, depth: number): void {
    const fr = rules ? fieldRules(field) : undefined;
    if (field.fieldKind === 'list') {
      this.list(field, json, path, rules, depth, fr?.list);
      return;
    }
    if (field.fieldKind === 'map') {
      this.map(field, json, path, rules, depth, fr?.map);
      return;
    }
    const value = this.single(field, json, path, rules && !fr?.skip, depth);
    if (fr?.value && value !== INVALID && value !== SET) this.check(fr.value, value, path);
  }

  /** A singular value of the field's type (for lists and maps: of one item / map value). */
  private single(field: DescField, json: unknown, path: string, rules: boolean, depth: number): unknown {
    if (field.message) return this.message(field.message, json, path, rules, depth + 1);
    if (field.enum) return this.enumValue(field.enum, json, path);
    return this.scalar(field.scalar ?? ScalarType.STRING, json, path);
  }

  private scalar(t: ScalarType, json: unknown, path: string): unknown {
    const value = readScalar(t, json);
    if (!(value instanceof Bad)) return value;
    this.report(path, value.message);
    return INVALID;
  }

  private enumValue(desc: DescEnum, json: unknown, path: string): unknown {
    if (typeof json === 'string') {
      const n = enumByName(desc).get(json);
      if (n !== undefined) return n;
      const names = desc.values.length <= 12 ? ` (expected one of ${desc.values.map((v) => v.name).join(', ')})` : '';
      this.report(path, `unknown value "${json}" for enum ${desc.typeName}${names}`);
      return INVALID;
    }
    if (typeof json === 'number' && Number.isInteger(json) && json >= -0x8000_0000 && json <= 0x7fff_ffff) return json;
    if (json === null && desc.typeName === 'google.protobuf.NullValue') return 0;
    this.report(path, `expected enum ${desc.typeName} (name or number), got ${describe(json)}`);
    return INVALID;
  }

  private list(field: DescField, json: unknown, path: string, rules: boolean, depth: number, lr?: ListRules): void {
    if (!Array.isArray(json)) {
      this.report(path, `expected array, got ${describe(json)}`);
      return;
    }
    const itemRules = rules && !lr?.itemSkip;
    const seen = lr?.unique ? new Map<unknown, number>() : undefined;
    for (let i = 0; i < json.length; i++) {
      const p = `${path}[${i}]`;
      const item = json[i];
      if (item === null && !acceptsNull(field)) {
        this.report(p, 'must not be null');
        continue;
      }
      const value = this.single(field, item, p, itemRules, depth);
      if (value === INVALID || value === SET) continue;
      if (lr?.item) this.check(lr.item, value, p);
      if (seen) {
        const first = seen.get(value);
        if (first !== undefined) this.report(p, `repeats item [${first}]; items must be unique`);
        else seen.set(value, i);
      }
    }
    if (lr) this.counts(path, json.length, lr.min, lr.max, 'item');
  }

  private map(field: DescField, json: unknown, path: string, rules: boolean, depth: number, mr?: MapRules): void {
    if (!isObject(json)) {
      this.report(path, `expected object (map), got ${describe(json)}`);
      return;
    }
    const keys = Object.keys(json);
    const keyType = field.fieldKind === 'map' ? field.mapKey : ScalarType.STRING;
    for (const k of keys) {
      const p = mapPath(path, k);
      const key = readMapKey(keyType, k);
      if (key instanceof Bad) this.report(p, `invalid map key "${k}" (expected ${scalarName(keyType)})`);
      else if (mr?.key) this.check(mr.key, key, p, 'key ');
      const item = json[k];
      if (item === null && !acceptsNull(field)) {
        this.report(p, 'must not be null');
        continue;
      }
      const value = this.single(field, item, p, rules && !mr?.valueSkip, depth);
      if (mr?.value && value !== INVALID && value !== SET) this.check(mr.value, value, p);
    }
    if (mr) this.counts(path, keys.length, mr.min, mr.max, 'pair');
  }

  // ---- well-known types -------------------------------------------------------------------------

  /** Walks a WKT with a JSON form of its own; undefined for other google.protobuf messages. */
  private wellKnown(desc: DescMessage, json: unknown, path: string, rules: boolean, depth: number): unknown {
    switch (desc.typeName) {
      case 'google.protobuf.Any':
        return this.any(json, path, rules, depth);
      case 'google.protobuf.Duration':
        return this.duration(json, path);
      case 'google.protobuf.Timestamp':
        return this.timestamp(json, path);
      case 'google.protobuf.FieldMask':
        if (typeof json !== 'string') this.report(path, `expected field mask string, got ${describe(json)}`);
        else if (json.includes('_')) this.report(path, 'field mask paths must be lowerCamelCase');
        else return SET;
        return INVALID;
      case 'google.protobuf.Struct':
        if (!isObject(json)) {
          this.report(path, `expected object (google.protobuf.Struct), got ${describe(json)}`);
          return INVALID;
        }
        return this.freeJson(json, path, depth);
      case 'google.protobuf.ListValue':
        if (!Array.isArray(json)) {
          this.report(path, `expected array (google.protobuf.ListValue), got ${describe(json)}`);
          return INVALID;
        }
        return this.freeJson(json, path, depth);
      case 'google.protobuf.Value':
        return this.freeJson(json, path, depth);
    }
    if (WRAPPERS.has(desc.typeName)) return this.scalar(desc.fields[0].scalar ?? ScalarType.STRING, json, path);
    return undefined;
  }

  /** Any JSON value (Struct, Value, ListValue). */
  private freeJson(json: unknown, path: string, depth: number): unknown {
    if (depth > MAX_DEPTH) {
      this.report(path, `nested more than ${MAX_DEPTH} levels deep`);
      return INVALID;
    }
    if (Array.isArray(json)) {
      for (let i = 0; i < json.length; i++) this.freeJson(json[i], `${path}[${i}]`, depth + 1);
    } else if (isObject(json)) {
      for (const k of Object.keys(json)) this.freeJson(json[k], mapPath(path, k), depth + 1);
    } else if (!(json === null || typeof json === 'string' || typeof json === 'boolean' || Number.isFinite(json))) {
      this.report(path, `not a JSON value: ${describe(json)}`);
      return INVALID;
    }
    return SET;
  }

  private duration(json: unknown, path: string): unknown {
    const m = typeof json === 'string' ? DURATION.exec(json) : null;
    if (!m) {
      this.report(path, `expected a duration like "5s" or "0.250s", got ${describe(json)}`);
      return INVALID;
    }
    const seconds = Number(m[2]);
    if (seconds > MAX_DURATION_SECONDS) {
      this.report(path, `duration ${json} is out of range`);
      return INVALID;
    }
    const fraction = m[3] === undefined ? 0 : Number(m[3].padEnd(9, '0'));
    const small = seconds * 1e9 + fraction; // exact below 2^53 ns (104 days)
    const nanos = Number.isSafeInteger(small) ? BigInt(small) : BigInt(m[2]) * 1_000_000_000n + BigInt(fraction);
    return m[1] ? -nanos : nanos;
  }

  private timestamp(json: unknown, path: string): unknown {
    const m = typeof json === 'string' ? TIMESTAMP.exec(json) : null;
    const ms = m ? Date.parse(`${m[1]}${m[3]}`) : Number.NaN;
    if (!m || Number.isNaN(ms)) {
      this.report(path, `expected an RFC 3339 timestamp like "2024-01-31T12:00:00Z", got ${describe(json)}`);
      return INVALID;
    }
    return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  }

  /** google.protobuf.Any: "@type" must name a registered message, whose fields follow. Returns the type URL. */
  private any(json: unknown, path: string, rules: boolean, depth: number): unknown {
    if (!isObject(json)) {
      this.report(path, `expected object (google.protobuf.Any), got ${describe(json)}`);
      return INVALID;
    }
    const url = own(json, '@type');
    const urlPath = `${path}.@type`;
    if (url === undefined || url === null) {
      this.report(path, '"@type" is required');
      return INVALID;
    }
    if (typeof url !== 'string') {
      this.report(urlPath, `expected type URL string, got ${describe(url)}`);
      return INVALID;
    }
    if (!url.startsWith(TYPE_URL_PREFIX)) {
      this.report(urlPath, `type URL "${url}" must start with "${TYPE_URL_PREFIX}"`);
      return INVALID;
    }
    const desc = this.registry.getMessage(url.slice(TYPE_URL_PREFIX.length));
    if (!desc) {
      this.report(urlPath, `unknown type "${url}"`);
      return INVALID;
    }
    const inner = `${path}<${desc.name}>`;
    if (!CUSTOM_JSON.has(desc.typeName)) {
      this.object(desc, json, inner, rules, depth + 1, '@type');
      return url;
    }
    for (const k of Object.keys(json)) {
      if (k !== '@type' && k !== 'value') this.report(join(inner, k), `unknown field "${k}" (${desc.typeName} in Any)`);
    }
    if (!Object.hasOwn(json, 'value')) this.report(inner, `"value" is required for ${desc.typeName} in Any`);
    else this.message(desc, json.value, join(inner, 'value'), rules, depth + 1);
    return url;
  }
}
