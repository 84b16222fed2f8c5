// HPACK encoding (RFC 7541) of the few header blocks our server sends, without state: every field
// is a literal "without indexing" with a raw (non-Huffman) string, so the peer's decoder table
// never changes and any block can be encoded once and sent on every connection. `:status: 200` is
// the static table's entry 8; another status is a literal whose name is that entry's.

const STATUS_200_INDEXED = 0x88; // indexed field, static index 8 (:status 200)
const STATUS_NAME_INDEX = 8;

/** One header block for `fields` (names lower-case; values octets as latin1 characters). */
export function encodeHeaderBlock(fields: readonly (readonly [string, string])[]): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of fields) {
    if (name === ':status') {
      if (value === '200') {
        bytes.push(STATUS_200_INDEXED);
        continue;
      }
      writeInteger(bytes, 0x00, 4, STATUS_NAME_INDEX); // literal without indexing, indexed name
    } else {
      bytes.push(0x00); // literal without indexing, new name
      writeString(bytes, name);
    }
    writeString(bytes, value);
  }
  return Buffer.from(bytes);
}

/** An integer with an N-bit prefix (RFC 7541 §5.1), the prefix's other bits set from `first`. */
export function writeInteger(out: number[], first: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(first | value);
    return;
  }
  out.push(first | max);
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** A raw string literal (H = 0): its length with a 7-bit prefix, then its octets. */
function writeString(out: number[], text: string): void {
  const octets = Buffer.from(text, 'latin1');
  writeInteger(out, 0x00, 7, octets.length);
  for (const byte of octets) out.push(byte);
}
