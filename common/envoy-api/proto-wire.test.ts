import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import { encodeMessage, readString, skipField } from './proto-wire.js';

describe('encodeMessage (one shared writer)', () => {
  it('gives each message its own bytes: a later message does not change an earlier result', () => {
    const first = encodeMessage((w) => w.tag(1, WireType.LengthDelimited).string('a'.repeat(300)));
    const copy = Array.from(first);
    const second = encodeMessage((w) => w.tag(2, WireType.Varint).uint32(7));
    expect(Array.from(second)).toEqual([0x10, 7]);
    expect(Array.from(first)).toEqual(copy);
  });

  it('starts clean after a write that threw half way', () => {
    expect(() =>
      encodeMessage((w) => {
        w.tag(1, WireType.LengthDelimited).fork().string('half');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(Array.from(encodeMessage((w) => w.tag(2, WireType.Varint).uint32(1)))).toEqual([0x10, 1]);
  });
});

describe('readString', () => {
  const field = (bytes: Uint8Array) => new BinaryWriter().bytes(bytes).finish(); // length + bytes
  const utf8 = (text: string) => new TextEncoder().encode(text);
  const cases: [string, Uint8Array][] = [
    ['empty', utf8('')],
    ['short ASCII', utf8('x-api-key')],
    ['long ASCII', utf8('3f1c8a52-6a0e-4c55-9b3e-0c1f5c2a9d11/execute?x=1&y=2')],
    ['control characters and DEL', Uint8Array.of(0, 9, 10, 0x7f)],
    ['valid UTF-8', utf8('naïve café – 日本')],
    ['invalid UTF-8 (lone continuation byte)', Uint8Array.of(0x61, 0x80, 0x62)],
    ['invalid UTF-8 (truncated sequence)', Uint8Array.of(0xe6, 0x97)],
  ];
  const outcome = (read: () => string) => {
    try {
      return { value: read() };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };
  it.each(cases)(
    '%s: what BinaryReader.string gives or throws, strict and not, from a Buffer or a Uint8Array',
    (_, bytes) => {
      for (const strict of [true, false]) {
        for (const input of [field(bytes), Buffer.from(field(bytes))]) {
          const ours = new BinaryReader(input);
          const theirs = new BinaryReader(input);
          expect(outcome(() => readString(ours, strict))).toEqual(outcome(() => theirs.string(strict)));
          expect(ours.pos).toBe(theirs.pos);
        }
      }
    },
  );

  it('throws as BinaryReader.string does on a length beyond the end', () => {
    const input = Buffer.from([5, 0x61, 0x62]);
    expect(outcome(() => readString(new BinaryReader(input), true))).toEqual(
      outcome(() => new BinaryReader(input).string(true)),
    );
    expect(() => readString(new BinaryReader(input), true)).toThrow('premature EOF');
  });
});

describe('skipField', () => {
  const w = () => new BinaryWriter();
  const cases: [string, WireType, Uint8Array][] = [
    [
      'varint',
      WireType.Varint,
      w()
        .uint64(2n ** 63n)
        .uint32(7)
        .finish(),
    ],
    ['varint running past the end', WireType.Varint, Uint8Array.of(0x80, 0x80)],
    ['64-bit', WireType.Bit64, w().fixed64(5n).uint32(1).finish()],
    ['64-bit cut short', WireType.Bit64, Uint8Array.of(1, 2, 3)],
    ['32-bit', WireType.Bit32, w().fixed32(5).finish()],
    [
      'length-delimited',
      WireType.LengthDelimited,
      w()
        .bytes(Uint8Array.of(1, 2, 3))
        .uint32(9)
        .finish(),
    ],
    ['length beyond the end', WireType.LengthDelimited, Uint8Array.of(9, 1)],
    ['a group', WireType.StartGroup, w().tag(2, WireType.Varint).uint32(1).tag(1, WireType.EndGroup).finish()],
    ['an end-group tag', WireType.EndGroup, Uint8Array.of()],
  ];
  it.each(cases)('%s: moves and throws as BinaryReader.skip does', (_, wt, bytes) => {
    const ours = new BinaryReader(bytes);
    const theirs = new BinaryReader(bytes);
    let ourError: string | undefined;
    let theirError: string | undefined;
    try {
      skipField(ours, wt, 1, 100);
    } catch (e) {
      ourError = (e as Error).message;
    }
    try {
      theirs.skip(wt, 1, 100);
    } catch (e) {
      theirError = (e as Error).message;
    }
    expect(ourError).toBe(theirError);
    if (!theirError) expect(ours.pos).toBe(theirs.pos);
  });
});
