import { describe, expect, it } from 'vitest';
import { INTERN_MAX_BYTES, internAscii } from './string-intern.js';

const decodeCounting = () => {
  const calls: string[] = [];
  const decode = (buf: Uint8Array, start: number, end: number) => {
    const s = Buffer.from(buf.subarray(start, end)).toString('latin1');
    calls.push(s);
    return s;
  };
  return { calls, decode };
};

describe('internAscii', () => {
  it('decodes a short ASCII string once, then hands out the same string for the same octets anywhere', () => {
    const { calls, decode } = decodeCounting();
    const a = Buffer.from('xx:x-request-id-intern-test');
    const b = Buffer.from('x-request-id-intern-test!!');
    const first = internAscii(a, 3, a.length, decode);
    expect(first).toBe('x-request-id-intern-test');
    expect(internAscii(b, 0, b.length - 2, decode)).toBe(first);
    expect(calls).toEqual(['x-request-id-intern-test']);
  });

  it('never confuses strings: different octets of the same length, or a prefix, are decoded for what they are', () => {
    const { decode } = decodeCounting();
    const words = Array.from({ length: 20_000 }, (_, i) => `name-${i.toString(36)}`);
    for (let round = 0; round < 2; round++) {
      for (const w of words) {
        const buf = Buffer.from(`#${w}#`);
        expect(internAscii(buf, 1, buf.length - 1, decode)).toBe(w);
      }
    }
    const buf = Buffer.from('abcdef');
    expect(internAscii(buf, 0, 3, decode)).toBe('abc');
    expect(internAscii(buf, 0, 2, decode)).toBe('ab');
    expect(internAscii(buf, 3, 3, decode)).toBe('');
  });

  it('leaves alone what is not short ASCII (the caller decodes and checks it as UTF-8)', () => {
    const { calls, decode } = decodeCounting();
    const utf8 = Buffer.from('caf\u00e9');
    expect(internAscii(utf8, 0, utf8.length, decode)).toBeUndefined();
    const invalid = Uint8Array.from([0x61, 0xff, 0x62]);
    expect(internAscii(invalid, 0, 3, decode)).toBeUndefined();
    const long = Buffer.from('a'.repeat(INTERN_MAX_BYTES + 1));
    expect(internAscii(long, 0, long.length, decode)).toBeUndefined();
    expect(internAscii(long, 0, INTERN_MAX_BYTES, decode)).toBe('a'.repeat(INTERN_MAX_BYTES));
    expect(calls).toHaveLength(1);
  });
});
