// Short ASCII strings that recur from request to request (header names, policy names, descriptor
// keys), handed out from a table instead of decoded anew: a decoded string costs a call into C++
// (Buffer's latin1Slice, ~0.2 µs) and a string to collect; a hit here costs a hash and a compare
// of a few dozen octets in JS. The table is direct-mapped and bounded: a new string replaces the
// one in its slot, so varied input (request ids, paths) costs only misses, never memory.
//
// Never for secrets: a string here stays in memory until replaced. Callers intern names (header
// names, policy names) and a request's method, host and peer address, never a header value that
// may carry a credential.

const SLOTS = 4096; // a power of two
/** Longer strings are not interned (names are short; a long string is seldom repeated). */
export const INTERN_MAX_BYTES = 64;
const table: string[] = new Array<string>(SLOTS).fill('');

/**
 * The string of `buf[start, end)` when those octets are ASCII and at most INTERN_MAX_BYTES long,
 * from the table or decoded by `decode` (and remembered); undefined otherwise.
 */
export function internAscii(
  buf: Uint8Array,
  start: number,
  end: number,
  decode: (buf: Uint8Array, start: number, end: number) => string,
): string | undefined {
  const len = end - start;
  if (len > INTERN_MAX_BYTES) return undefined;
  let h = 0x811c9dc5 ^ len; // FNV-1a
  let bits = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    bits |= b;
    h = Math.imul(h ^ b, 0x01000193);
  }
  if (bits & 0x80) return undefined; // not ASCII: decoded (and checked) as UTF-8 by the caller
  const slot = (h ^ (h >>> 15)) & (SLOTS - 1);
  const known = table[slot];
  if (known.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (known.charCodeAt(i) !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return known;
  }
  const fresh = decode(buf, start, end);
  table[slot] = fresh;
  return fresh;
}
