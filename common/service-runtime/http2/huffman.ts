// HPACK's static Huffman code (RFC 7541 §5.2, Appendix B) and its decoder. The code is canonical
// (codes ordered by length, then by symbol), so the table below holds only the code lengths; the
// codes themselves are rebuilt from them at load.

/** Why a header block (or one of its Huffman strings) cannot be decoded: a COMPRESSION_ERROR. */
export class HpackError extends Error {
  override name = 'HpackError';
}

/** Code length in bits of each symbol: octets 0x00–0xff, then EOS (256). RFC 7541 Appendix B. */
// biome-ignore format: one row per 16 symbols
export const HUFFMAN_CODE_LENGTHS: Readonly<Uint8Array> = Uint8Array.of(
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0x00–0x0f
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 0x10–0x1f
   6, 10, 10, 12, 13,  6,  8, 11, 10, 10,  8, 11,  8,  6,  6,  6, // 0x20–0x2f  ' ' .. '/'
   5,  5,  5,  6,  6,  6,  6,  6,  6,  6,  7,  8, 15,  6, 12, 10, // 0x30–0x3f  '0' .. '?'
  13,  6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7, // 0x40–0x4f  '@' .. 'O'
   7,  7,  7,  7,  7,  7,  7,  7,  8,  7,  8, 13, 19, 13, 14,  6, // 0x50–0x5f  'P' .. '_'
  15,  5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,  6,  5, // 0x60–0x6f  '`' .. 'o'
   6,  7,  6,  5,  5,  6,  7,  7,  7,  7,  7, 15, 11, 14, 13, 28, // 0x70–0x7f  'p' .. DEL
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 0x80–0x8f
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 0x90–0x9f
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 0xa0–0xaf
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 0xb0–0xbf
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 0xc0–0xcf
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 0xd0–0xdf
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 0xe0–0xef
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 0xf0–0xff
  30, // EOS
);

const EOS = 256;
const MAX_LENGTH = 30;

// Canonical decoding tables. For each length L: FIRST_CODE[L] is the code of its first symbol,
// FIRST_RANK[L] that symbol's position in BY_RANK (symbols sorted by length, then value), and
// LIMIT[L] the smallest 32-bit window (next bits, MSB first) whose code is longer than L.
const FIRST_CODE = new Uint32Array(MAX_LENGTH + 1);
const FIRST_RANK = new Uint16Array(MAX_LENGTH + 1);
const LIMIT = new Float64Array(MAX_LENGTH + 1);
const BY_RANK = new Uint16Array(EOS + 1);

// Most symbols (ASCII's letters, digits and common punctuation) have codes of at most PEEK_BITS
// bits, and the commonest are short enough that the next PEEK_BITS bits often hold two codes.
// PEEK[next PEEK_BITS bits]: bits 0–7 the first symbol, 8–15 a second one, 16–20 the bits both
// take, 21–24 the first code's length, 25 set if there is a second symbol; 0 for a longer code.
const PEEK_BITS = 12;
const PEEK = new Uint32Array(1 << PEEK_BITS);

{
  const count = new Uint16Array(MAX_LENGTH + 1);
  for (const len of HUFFMAN_CODE_LENGTHS) count[len]++;
  // The lengths must form a complete prefix code: Kraft sum Σ 2^-len exactly 1.
  let kraft = 0;
  for (let len = 1; len <= MAX_LENGTH; len++) kraft += count[len] * 2 ** (MAX_LENGTH - len);
  if (kraft !== 2 ** MAX_LENGTH) throw new Error('HPACK Huffman code lengths are not a complete prefix code');

  let code = 0;
  let rank = 0;
  for (let len = 1; len <= MAX_LENGTH; len++) {
    FIRST_CODE[len] = code;
    FIRST_RANK[len] = rank;
    code += count[len];
    rank += count[len];
    LIMIT[len] = code * 2 ** (32 - len);
    code *= 2;
  }
  const next = FIRST_RANK.slice();
  for (let sym = 0; sym <= EOS; sym++) BY_RANK[next[HUFFMAN_CODE_LENGTHS[sym]]++] = sym;

  // The short codes, in code order.
  const short: { sym: number; len: number; code: number }[] = [];
  for (let r = 0; HUFFMAN_CODE_LENGTHS[BY_RANK[r]] <= PEEK_BITS; r++) {
    const len = HUFFMAN_CODE_LENGTHS[BY_RANK[r]];
    short.push({ sym: BY_RANK[r], len, code: FIRST_CODE[len] + r - FIRST_RANK[len] });
  }
  for (const a of short) {
    const rest = PEEK_BITS - a.len;
    const first = a.code << rest;
    PEEK.fill(a.sym | (a.len << 16) | (a.len << 21), first, first + (1 << rest));
    for (const b of short) {
      if (b.len > rest) break;
      const both = first | (b.code << (rest - b.len));
      const entry = a.sym | (b.sym << 8) | ((a.len + b.len) << 16) | (a.len << 21) | (1 << 25);
      PEEK.fill(entry, both, both + (1 << (rest - b.len)));
    }
  }
}

type Latin1Slice = { latin1Slice(start: number, end: number): string };
// Decoded octets go here first, then become a string in one native call.
let scratch = Buffer.allocUnsafeSlow(1024) as Buffer & Latin1Slice;

/**
 * The Huffman-coded string in bytes[start, end) as a latin1 string (one char per octet). Throws
 * an HpackError for an EOS symbol, padding of 8 bits or more, or padding that is not all ones
 * (RFC 7541 §5.2).
 */
export function decodeHuffman(bytes: Uint8Array, start: number, end: number): string {
  // Every code has at least 5 bits; one octet more for the two-symbol step's spare write.
  const maxOut = Math.floor(((end - start) * 8) / 5) + 1;
  if (scratch.length < maxOut) scratch = Buffer.allocUnsafeSlow(Math.max(maxOut, scratch.length * 2)) as typeof scratch;
  const out = scratch;
  let n = 0;
  // `acc`'s low `nbits` bits are the next input bits, MSB first; bits above them are stale.
  let acc = 0;
  let nbits = 0;
  let pos = start;
  for (;;) {
    if (nbits < PEEK_BITS) {
      while (nbits <= 24 && pos < end) {
        acc = (acc << 8) | bytes[pos++];
        nbits += 8;
      }
      if (nbits < PEEK_BITS) {
        // The last few bits: one more short code, or else the padding.
        if (nbits === 0) break;
        const fill = PEEK_BITS - nbits;
        const e = PEEK[((acc << fill) | ((1 << fill) - 1)) & ((1 << PEEK_BITS) - 1)];
        const len = (e >>> 21) & 15;
        if (e === 0 || len > nbits) break;
        out[n++] = e & 0xff;
        nbits -= len;
        continue;
      }
    }
    const e = PEEK[(acc >>> (nbits - PEEK_BITS)) & ((1 << PEEK_BITS) - 1)];
    if (e !== 0) {
      // One or two symbols; the second octet is written either way, and kept only if it is one.
      out[n] = e & 0xff;
      out[n + 1] = (e >>> 8) & 0xff;
      n += 1 + (e >>> 25);
      nbits -= (e >>> 16) & 31;
      continue;
    }
    // A long code (13 to 30 bits). Window: the next 32 bits, MSB first, ones past the end.
    let win = acc << (32 - nbits);
    let have = nbits;
    for (let p = pos; have < 32 && p < end; have += 8) {
      const byte = bytes[p++];
      win |= have <= 24 ? byte << (24 - have) : byte >>> (have - 24);
    }
    if (have < 32) win |= (1 << (32 - have)) - 1;
    const w = win >>> 0;
    let len = PEEK_BITS + 1;
    while (w >= LIMIT[len]) len++;
    // The string ends inside this code: 8+ bits of (possibly EOS-prefix) padding.
    if (len > have) throw new HpackError('Huffman string has more than 7 bits of padding');
    const sym = BY_RANK[FIRST_RANK[len] + (w >>> (32 - len)) - FIRST_CODE[len]];
    if (sym === EOS) throw new HpackError('Huffman string contains EOS');
    out[n++] = sym;
    if (len <= nbits) {
      nbits -= len;
    } else {
      // The code runs into the following bytes: skip those it covers, keep the rest of the last.
      const rest = len - nbits;
      pos += rest >>> 3;
      nbits = 0;
      if (rest & 7) {
        acc = bytes[pos++];
        nbits = 8 - (rest & 7);
      }
    }
  }
  // Left over: fewer than PEEK_BITS bits that start no complete code. Valid padding is a
  // prefix of EOS: at most 7 bits, all ones.
  if (nbits > 7) throw new HpackError('Huffman string has more than 7 bits of padding');
  const ones = (1 << nbits) - 1;
  if ((acc & ones) !== ones) throw new HpackError('Huffman padding is not all ones');
  return out.latin1Slice(0, n);
}
