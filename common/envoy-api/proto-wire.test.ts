import { WireType } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from './proto-wire.js';

describe('encodeMessage (one shared writer)', () => {
  it('gives each message its own bytes: a later message does not change an earlier result', () => {
    const first = encodeMessage((w) => w.tag(1, WireType.LengthDelimited).string('a'.repeat(300)));
    const copy = Uint8Array.from(first);
    const second = encodeMessage((w) => w.tag(2, WireType.Varint).uint32(7));
    expect(Array.from(second)).toEqual([0x10, 7]);
    expect(first).toEqual(copy);
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
