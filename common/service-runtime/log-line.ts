// The bytes of one log line, written in place: JSON text goes straight into a reusable buffer as
// UTF-8. A line built by string concatenation leaves a dozen strings per line to the garbage
// collector, then a flat copy and a Buffer to write it; for a service that logs every request
// (ext-authz's audit line), that was a sixth of what it allocated per request.

/** Characters JSON.stringify escapes in a string (quote, backslash, controls, lone surrogates). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const RESERVED = new Set(['time', 'level', 'service', 'msg']);
/** A field's name in a log line: one of the fixed keys keeps its value under a prefixed name. */
export function fieldName(key: string): string {
  return RESERVED.has(key) ? `field_${key}` : key;
}
const QUOTE = 0x22;
const START_BYTES = 8192;
const KEEP_BYTES = 64 * 1024;

/** JSON.stringify of a string, quicker for the common string that needs no escape. */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** Writes the members of a log line (after time, level, service and msg), in order. */
export interface MemberWriter {
  /** `,"key":"value"`; a string field. */
  string(key: string, value: string): void;
  /** `,"key":value`; null for a number that is not finite, as JSON.stringify writes it. */
  number(key: string, value: number): void;
}

/**
 * Fields that write themselves (for a line written on every request): the same JSON as the fields
 * given as an object, without building the object or its strings. Keys time, level, service and
 * msg are written as field_time..., as for an object's.
 */
export interface LogMembers {
  writeMembers(w: MemberWriter): void;
}

// `,"key":` per field name, quoted once (a bounded number of them).
const prefixes = new Map<string, string>();
function memberPrefix(key: string): string {
  let p = prefixes.get(key);
  if (p === undefined) {
    p = `,${jsonString(fieldName(key))}:`;
    if (prefixes.size < 1000) prefixes.set(key, p);
  }
  return p;
}

export class LineBytes implements MemberWriter {
  private buf = Buffer.allocUnsafeSlow(START_BYTES);
  /** Octets written since reset(). */
  length = 0;

  reset(): void {
    this.length = 0;
    // One very long line (an error with a long stack) does not keep its buffer for ever.
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafeSlow(START_BYTES);
  }

  /** Text as it is (already JSON), in UTF-8. ASCII is copied in JS: a line has a dozen short pieces, and a call into C++ per piece cost more than the copy. */
  text(s: string): void {
    const n = s.length;
    this.room(n * 3); // at most 3 octets per UTF-16 code unit
    const buf = this.buf;
    let at = this.length;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at++] = c;
    }
    this.length = i === n ? at : at + buf.write(i === 0 ? s : s.slice(i), at);
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  /** A JSON string. */
  jsonString(s: string): void {
    if (NEEDS_ESCAPE.test(s)) {
      this.text(JSON.stringify(s));
      return;
    }
    this.byte(QUOTE);
    this.text(s);
    this.byte(QUOTE);
  }

  string(key: string, value: string): void {
    this.text(memberPrefix(key));
    this.jsonString(value);
  }

  number(key: string, value: number): void {
    this.text(memberPrefix(key));
    this.text(Number.isFinite(value) ? String(value) : 'null');
  }

  /** Copies the line into `target` at `offset`. */
  copyTo(target: Buffer, offset: number): void {
    this.buf.copy(target, offset, 0, this.length);
  }

  /** The line as a Buffer of its own. */
  copy(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    this.copyTo(out, 0);
    return out;
  }

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }
}
