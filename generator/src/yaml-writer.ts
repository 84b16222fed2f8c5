// A small, fast YAML writer for the plain data the emitters build (objects, arrays, strings,
// numbers, booleans, null). Block style, two-space indent, keys in insertion order. A string is
// written plain only when YAML cannot read it as anything else; otherwise it is double-quoted
// with JSON escapes (valid YAML). Several times faster than a general YAML library on the
// 10,000-route files, and the output is the same on every run.

const plainString = /^[A-Za-z0-9_/.$][A-Za-z0-9_/.$ +*=~^()@%,;'"\\<>?!&|-]*$/;
const special =
  /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\.inf|\.nan)|[-+]?[0-9][0-9_,:.]*(?:e[-+]?[0-9]+)?|0x[0-9a-f]+|0o[0-7]+|[-+]?\.[0-9]+)$/i;

function scalarString(s: string): string {
  if (s === '' || !plainString.test(s) || special.test(s) || s.endsWith(' ') || s.includes(': ') || s.includes(' #'))
    return JSON.stringify(s);
  return s;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return scalarString(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? '.inf' : v < 0 ? '-.inf' : '.nan';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A multi-line string as a literal block (`|` or `|-`) when that reads back exactly. */
function block(s: string, indent: string): string | undefined {
  if (!s.includes('\n') || /[\r\t]/.test(s) || s.startsWith(' ') || s.startsWith('\n')) return undefined;
  const body = s.endsWith('\n') ? s.slice(0, -1) : s;
  if (body.endsWith('\n') || body.endsWith(' ') || body.includes(' \n')) return undefined;
  // Every non-empty line indented; empty lines stay empty.
  return `${s.endsWith('\n') ? '|' : '|-'}\n${indent}${body.replaceAll(/\n(?=[^\n])/g, `\n${indent}`)}`;
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/** A map's lines; the first one starts with `first` (the indent, or `indent- ` for a list item). */
function writeMap(v: Record<string, unknown>, indent: string, first: string, out: string[]): void {
  let prefix = first;
  for (const k of Object.keys(v)) {
    const val = v[k];
    if (val === undefined) continue;
    const key = scalarString(k);
    if (Array.isArray(val) ? val.length > 0 : isObject(val) && hasKeys(val)) {
      out.push(`${prefix}${key}:\n`);
      if (Array.isArray(val)) writeList(val, `${indent}  `, out);
      else writeMap(val as Record<string, unknown>, `${indent}  `, `${indent}  `, out);
    } else {
      const literal = typeof val === 'string' ? block(val, `${indent}  `) : undefined;
      out.push(`${prefix}${key}: ${literal ?? inline(val)}\n`);
    }
    prefix = indent;
  }
  if (prefix === first && first !== indent) out.push(`${first}{}\n`); // a list item with no field written
}

function writeList(v: unknown[], indent: string, out: string[]): void {
  for (const item of v) {
    if (isObject(item) && hasKeys(item)) writeMap(item, `${indent}  `, `${indent}- `, out);
    else if (Array.isArray(item) && item.length) {
      out.push(`${indent}-\n`);
      writeList(item, `${indent}  `, out);
    } else out.push(`${indent}- ${inline(item)}\n`);
  }
}

function inline(v: unknown): string {
  if (Array.isArray(v)) return '[]';
  if (isObject(v)) return '{}';
  return scalar(v);
}

/** One YAML document (no leading `---`), ending with a newline. */
export function writeYaml(value: unknown): string {
  if (!isObject(value) && !Array.isArray(value)) return `${scalar(value)}\n`;
  const out: string[] = [];
  if (Array.isArray(value)) writeList(value, '', out);
  else writeMap(value as Record<string, unknown>, '', '', out);
  return out.length ? out.join('') : '{}\n';
}
