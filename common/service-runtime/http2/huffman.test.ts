// decodeHuffman against the RFC's own codes, a test-only encoder and a bit-by-bit reference
// decoder. (hpack-decoder.test.ts checks every octet a header value may carry against nghttp2.)
import { describe, expect, it } from 'vitest';
import { prng } from '../../../test/support/prng.js';
import { decodeHuffman, HpackError, HUFFMAN_CODE_LENGTHS } from './huffman.js';

const EOS = 256;

/** The canonical codes the lengths define: shorter first, same length by symbol value. */
function canonicalCodes(): number[] {
  const order = [...Array(EOS + 1).keys()].sort((a, b) => HUFFMAN_CODE_LENGTHS[a] - HUFFMAN_CODE_LENGTHS[b] || a - b);
  const codes: number[] = [];
  let code = 0;
  let prevLength = HUFFMAN_CODE_LENGTHS[order[0]];
  for (const sym of order) {
    code *= 2 ** (HUFFMAN_CODE_LENGTHS[sym] - prevLength);
    prevLength = HUFFMAN_CODE_LENGTHS[sym];
    codes[sym] = code++;
  }
  return codes;
}
const CODES = canonicalCodes();

/** Test-only encoder: codes MSB first, padded with ones (EOS's prefix) to a whole octet. */
function encode(octets: Uint8Array | number[], codes: number[] = CODES): Uint8Array {
  const bits: number[] = [];
  for (const o of octets) {
    for (let i = HUFFMAN_CODE_LENGTHS[o] - 1; i >= 0; i--) bits.push(Math.floor(codes[o] / 2 ** i) & 1);
  }
  while (bits.length % 8) bits.push(1);
  const out = new Uint8Array(bits.length / 8);
  for (const [i, bit] of bits.entries()) out[i >> 3] |= bit << (7 - (i & 7));
  return out;
}

const BY_LENGTH_AND_CODE = new Map<string, number>();
for (let sym = 0; sym <= EOS; sym++) BY_LENGTH_AND_CODE.set(`${HUFFMAN_CODE_LENGTHS[sym]}:${CODES[sym]}`, sym);

/** Reference decoder, one bit at a time: the decoded octets, or 'error'. */
function referenceDecode(bytes: Uint8Array): number[] | 'error' {
  const out: number[] = [];
  let code = 0;
  let length = 0;
  let allOnes = true;
  for (const byte of bytes) {
    for (let i = 7; i >= 0; i--) {
      const bit = (byte >> i) & 1;
      code = code * 2 + bit;
      length++;
      allOnes &&= bit === 1;
      const sym = BY_LENGTH_AND_CODE.get(`${length}:${code}`);
      if (sym === EOS) return 'error';
      if (sym !== undefined) {
        out.push(sym);
        code = 0;
        length = 0;
        allOnes = true;
      }
    }
  }
  return length <= 7 && allOnes ? out : 'error';
}

const latin1 = (octets: Uint8Array | number[]) => Buffer.from(octets).toString('latin1');
const decodeAll = (bytes: Uint8Array) => decodeHuffman(bytes, 0, bytes.length);

describe('HPACK Huffman code', () => {
  it('has 257 code lengths forming a complete prefix code (Kraft sum exactly 1)', () => {
    expect(HUFFMAN_CODE_LENGTHS.length).toBe(257);
    let sum = 0;
    for (const len of HUFFMAN_CODE_LENGTHS) sum += 2 ** (30 - len);
    expect(sum).toBe(2 ** 30);
  });

  it('rebuilds the codes of RFC 7541 Appendix B (one symbol per code length)', () => {
    // [symbol, code, length] as printed in the RFC.
    const rfc: [number, number, number][] = [
      [0x30, 0x0, 5],
      [0x20, 0x14, 6],
      [0x3a, 0x5c, 7],
      [0x26, 0xf8, 8],
      [0x21, 0x3f8, 10],
      [0x7c, 0x7fc, 11],
      [0x23, 0xffa, 12],
      [0x00, 0x1ff8, 13],
      [0x5e, 0x3ffc, 14],
      [0x3c, 0x7ffc, 15],
      [0x5c, 0x7fff0, 19],
      [0x80, 0xfffe6, 20],
      [0x99, 0x1fffdc, 21],
      [0x81, 0x3fffd2, 22],
      [0x01, 0x7fffd8, 23],
      [0x09, 0xffffea, 24],
      [0xc7, 0x1ffffec, 25],
      [0xff, 0x3ffffee, 26],
      [0xcb, 0x7ffffde, 27],
      [0x02, 0xfffffe2, 28],
      [0x0a, 0x3ffffffc, 30],
      [EOS, 0x3fffffff, 30],
    ];
    for (const [sym, code, len] of rfc) expect([sym, CODES[sym], HUFFMAN_CODE_LENGTHS[sym]]).toEqual([sym, code, len]);
  });

  it("decodes the RFC's example string (Appendix C.4.1)", () => {
    const bytes = Buffer.from('f1e3c2e5f23a6ba0ab90f4ff', 'hex');
    expect(Buffer.from(encode(Buffer.from('www.example.com'))).toString('hex')).toBe(bytes.toString('hex'));
    expect(decodeAll(bytes)).toBe('www.example.com');
  });

  it('decodes every octet alone, after every other, and all 256 in one string', () => {
    for (let o = 0; o < 256; o++) {
      expect(decodeAll(encode([o]))).toBe(latin1([o]));
      // Shifted to every bit offset mod 8 by the preceding symbols.
      for (let prefix = 0; prefix < 8; prefix++) {
        const octets = [...Array(prefix).fill(0x30), o, 0x61, o];
        expect(decodeAll(encode(octets))).toBe(latin1(octets));
      }
    }
    const all = [...Array(256).keys()];
    expect(decodeAll(encode(all))).toBe(latin1(all));
    expect(decodeAll(encode(all.reverse()))).toBe(latin1(all));
  });

  it('decodes within [start, end) of a larger array, and the empty string', () => {
    const inner = encode(Buffer.from('grpc-timeout'));
    const bytes = new Uint8Array([0x00, 0x00, ...inner, 0x00]);
    expect(decodeHuffman(bytes, 2, 2 + inner.length)).toBe('grpc-timeout');
    expect(decodeHuffman(bytes, 3, 3)).toBe('');
  });

  it('decodes long strings (beyond the first output buffer)', () => {
    const rand = prng(7);
    const octets = Array.from({ length: 20_000 }, () => Math.floor(rand() * 256));
    expect(decodeAll(encode(octets))).toBe(latin1(octets));
    const text = Buffer.from('application/grpc+proto; '.repeat(1000));
    expect(decodeAll(encode(text))).toBe(text.toString('latin1'));
  });

  it('rejects EOS inside the string', () => {
    const eos = (CODES[EOS] >>> 0).toString(2); // 30 ones
    expect(eos).toBe('1'.repeat(30));
    // EOS, then 'a' (00011) and 5 bits of padding.
    const bits = `${eos}00011` + '1'.repeat(5);
    const bytes = Uint8Array.from(bits.match(/.{8}/g)!.map((b) => Number.parseInt(b, 2)));
    expect(() => decodeAll(bytes)).toThrow(HpackError);
    expect(() => decodeAll(bytes)).toThrow(/EOS/);
    // EOS then 2 ones: a whole 32-bit string of ones.
    expect(() => decodeAll(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toThrow(HpackError);
  });

  it('rejects padding of 8 bits or more', () => {
    // 'a' + 3 bits of padding is fine; one more octet of ones is not.
    expect(decodeAll(Uint8Array.of(0x1f))).toBe('a');
    expect(() => decodeAll(Uint8Array.of(0x1f, 0xff))).toThrow(/more than 7 bits/);
    expect(() => decodeAll(Uint8Array.of(0xff))).toThrow(/more than 7 bits/);
    expect(() => decodeAll(Uint8Array.of(0xff, 0xff, 0xff))).toThrow(HpackError);
    // A long code cut short by the end of the string.
    const cut = encode([0x01]).subarray(0, 2);
    expect(() => decodeAll(cut)).toThrow(HpackError);
  });

  it('rejects padding that is not all ones', () => {
    // 'a' = 00011, then 000 / 101 / 110 as padding.
    for (const byte of [0x18, 0x1d, 0x1e]) expect(() => decodeAll(Uint8Array.of(byte))).toThrow(/not all ones/);
    // '0' (00000) twice, then six bits of padding: 111111 is fine, 111110 is not.
    expect(decodeAll(Uint8Array.of(0x00, 0x3f))).toBe('00');
    expect(() => decodeAll(Uint8Array.of(0x00, 0x3e))).toThrow(/not all ones/);
  });

  it('agrees with a bit-by-bit reference decoder on random input (seeded)', () => {
    const rand = prng(0x5eed);
    let decoded = 0;
    for (let run = 0; run < 3000; run++) {
      let bytes: Uint8Array;
      if (run % 3 === 0) {
        // Valid strings with a random last octet: good and bad padding, cut codes.
        const octets = Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() * 256));
        bytes = encode(octets);
        if (bytes.length) bytes[bytes.length - 1] = Math.floor(rand() * 256);
      } else {
        // Random octets biased towards ones, where the long codes and EOS live.
        bytes = Uint8Array.from({ length: Math.floor(rand() * 16) }, () =>
          rand() < 0.5 ? 0xff : Math.floor(rand() * 256),
        );
      }
      const expected = referenceDecode(bytes);
      let actual: string | 'error';
      try {
        actual = decodeAll(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(HpackError);
        actual = 'error';
      }
      expect(actual).toBe(expected === 'error' ? 'error' : latin1(expected));
      if (actual !== 'error') decoded++;
    }
    // Both outcomes were exercised.
    expect(decoded).toBeGreaterThan(300);
    expect(decoded).toBeLessThan(2700);
  });
});
