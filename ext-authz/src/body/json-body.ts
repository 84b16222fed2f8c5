// The request body as Envoy hands it to ext-authz (`with_request_body`): a JSON object, parsed
// defensively, and the top-level string fields that routing copies into `x-aigw-body-<field>`.

/** Deepest nesting accepted: the top-level object is depth 1, `{"a":{"b":[]}}` is depth 3. */
export const MAX_JSON_DEPTH = 64;

/** Longest routing field value accepted for a header, in UTF-8 bytes. */
export const MAX_HEADER_FIELD_BYTES = 1024;

export type ParsedBody = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/**
 * A top-level field read for routing. `value` is undefined when the field is absent or not a string
 * (number, boolean, null, object, array): such a body simply does not match a string condition.
 * `ok: false` means the field is a string that cannot be put into an HTTP header; answer
 * 400 with `reason` ("field X is not a valid header value").
 */
export type BodyField = { ok: true; value: string | undefined } | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** In a `u` regex, [\uD800-\uDFFF] matches only unpaired surrogates. */
const loneSurrogate = /[\uD800-\uDFFF]/u;

/** C0 controls (CR, LF, NUL, TAB, ...), DEL, or an unpaired surrogate (not encodable as UTF-8). */
const notHeaderSafe = /[\u0000-\u001f\u007f]|[\uD800-\uDFFF]/u;

/**
 * Parses a request body that must be a JSON object.
 *
 * - Size is checked first, in bytes (UTF-8 bytes for a string), before any decoding or parsing.
 * - Bytes must be well-formed UTF-8 (a string must have no unpaired surrogate). A leading UTF-8
 *   byte order mark is ignored (RFC 8259 §8.1 allows it); JSON.parse would reject it.
 * - Nesting deeper than MAX_JSON_DEPTH is rejected by a linear pre-scan before JSON.parse. V8's
 *   JSON.parse itself is iterative (5,000,000 levels parse without a stack overflow on Node 20), but
 *   the value it returns would overflow the stack of any recursive consumer (JSON.stringify fails at
 *   10,000 levels), so a bounded depth is what makes the parsed value safe to walk.
 * - Duplicate keys are not detected: the last one wins, as in JSON.parse.
 */
export function parseJsonBody(bytes: Uint8Array | string, maxBytes: number): ParsedBody {
  let text: string;
  if (typeof bytes === 'string') {
    // Each UTF-16 unit is at least one UTF-8 byte: a cheap rejection before measuring.
    if (!(bytes.length <= maxBytes && Buffer.byteLength(bytes, 'utf8') <= maxBytes)) return tooLarge(maxBytes);
    if (loneSurrogate.test(bytes)) return { ok: false, reason: 'body is not UTF-8' };
    text = bytes.charCodeAt(0) === 0xfeff ? bytes.slice(1) : bytes;
  } else {
    if (!(bytes.byteLength <= maxBytes)) return tooLarge(maxBytes); // a NaN limit rejects everything
    try {
      text = utf8.decode(bytes);
    } catch {
      return { ok: false, reason: 'body is not UTF-8' };
    }
  }
  if (text.length === 0) return { ok: false, reason: 'body is empty' };
  if (exceedsDepth(text, MAX_JSON_DEPTH)) {
    return { ok: false, reason: `body is nested deeper than ${MAX_JSON_DEPTH} levels` };
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'body is not valid JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'body must be a JSON object' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * The string value of a top-level field, for routing and for `x-aigw-body-<field>`.
 * Only own properties count (`constructor`, `__proto__` of Object.prototype are never read).
 * A string is not a valid header value when it contains a control character (C0 incl. CR, LF,
 * NUL, TAB, or DEL), an unpaired surrogate, leading or trailing spaces (HTTP strips or rejects
 * them, so the header would differ from the value matched), or is longer than
 * MAX_HEADER_FIELD_BYTES in UTF-8. Other non-ASCII text is valid (sent as UTF-8).
 */
export function topLevelString(body: Record<string, unknown>, field: string): BodyField {
  if (!Object.hasOwn(body, field)) return { ok: true, value: undefined };
  const value = body[field];
  if (typeof value !== 'string') return { ok: true, value: undefined };
  if (
    value.length > MAX_HEADER_FIELD_BYTES ||
    notHeaderSafe.test(value) ||
    value.startsWith(' ') ||
    value.endsWith(' ') ||
    Buffer.byteLength(value, 'utf8') > MAX_HEADER_FIELD_BYTES
  ) {
    return { ok: false, reason: `field ${field} is not a valid header value` };
  }
  return { ok: true, value };
}

function tooLarge(maxBytes: number): ParsedBody {
  return { ok: false, reason: `body larger than ${maxBytes} bytes` };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * True when brackets outside strings nest deeper than `max`. Linear: string contents are skipped
 * with indexOf, and each run of backslashes before a quote is counted once. Malformed text may be
 * miscounted; JSON.parse rejects it afterwards anyway.
 */
function exceedsDepth(text: string, max: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let j = i + 1;
      for (;;) {
        j = text.indexOf('"', j);
        if (j < 0) return false; // unterminated string: invalid JSON
        let k = j - 1;
        while (text.charCodeAt(k) === BACKSLASH) k--;
        if ((j - 1 - k) % 2 === 0) break; // an even number of backslashes: the quote closes the string
        j++;
      }
      i = j;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}
