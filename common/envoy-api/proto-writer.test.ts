import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import { prng } from '../../test/support/prng.js';
import { ProtoWriter } from './proto-writer.js';

/** The same calls on both writers. */
type Script = (w: Pick<BinaryWriter, 'tag' | 'uint32' | 'int32' | 'double' | 'string' | 'fork' | 'join'>) => void;

function both(script: Script): { ours: number[]; theirs: number[] } {
  const ours = new ProtoWriter();
  script(ours as unknown as BinaryWriter);
  const theirs = new BinaryWriter();
  script(theirs);
  return { ours: Array.from(ours.finish()), theirs: Array.from(theirs.finish()) };
}

const VARINTS = [0, 1, 127, 128, 255, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 2 ** 32 - 1];
const INT32S = [0, 1, -1, -2, 127, -128, 2 ** 31 - 1, -(2 ** 31), 16, 7, -100_000];
const DOUBLES = [0, -0, 1.5, -2.25, 1e300, 5e-324, Number.NaN, Number.POSITIVE_INFINITY, 812];
const STRINGS = [
  '',
  'x-api-key',
  'caf\u00e9',
  '\u{1f600} emoji',
  'a'.repeat(127),
  'a'.repeat(128),
  '\u00e9'.repeat(64), // 128 octets from 64 characters
  'b'.repeat(20_000),
  'mixed ascii then \u2028 and more',
  'lone \ud800 surrogate and \udc00 another', // written as U+FFFD, as TextEncoder does
];

describe('ProtoWriter: the bytes of protobuf-es BinaryWriter', () => {
  it.each(VARINTS)('uint32 %d', (v) => {
    const { ours, theirs } = both((w) => w.tag(1, WireType.Varint).uint32(v));
    expect(ours).toEqual(theirs);
  });

  it.each(INT32S)('int32 %d (negative: ten octets)', (v) => {
    const { ours, theirs } = both((w) => w.tag(2, WireType.Varint).int32(v));
    expect(ours).toEqual(theirs);
  });

  it.each([0, 1, -1, 300, 2 ** 32, 2 ** 40 + 7, -(2 ** 33), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])(
    'int64 %d',
    (v) => {
      const ours = new ProtoWriter().tag(1, WireType.Varint).int64(v).finish();
      const theirs = new BinaryWriter().tag(1, WireType.Varint).int64(v).finish();
      expect(Array.from(ours)).toEqual(Array.from(theirs));
    },
  );

  it.each([-1, 2 ** 32, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('uint32 refuses %d, as BinaryWriter does', (v) => {
    expect(() => new BinaryWriter().uint32(v)).toThrow('invalid uint32');
    expect(() => new ProtoWriter().uint32(v)).toThrow('invalid uint32');
  });

  it.each([2 ** 31, -(2 ** 31) - 1, 0.5, Number.NaN])('int32 refuses %d, as BinaryWriter does', (v) => {
    expect(() => new BinaryWriter().int32(v)).toThrow('invalid int32');
    expect(() => new ProtoWriter().int32(v)).toThrow('invalid int32');
  });

  it('int64 refuses a number that is not a safe integer', () => {
    expect(() => new ProtoWriter().int64(2 ** 60)).toThrow(RangeError);
    expect(() => new ProtoWriter().int64(1.5)).toThrow(RangeError);
  });

  it.each(DOUBLES)('double %d', (v) => {
    const { ours, theirs } = both((w) => w.tag(3, WireType.Bit64).double(v));
    expect(ours).toEqual(theirs);
  });

  it.each(STRINGS.map((s) => [s.length > 40 ? `${s.slice(0, 20)}… (${s.length})` : s, s]))('string %j', (_, s) => {
    const { ours, theirs } = both((w) => w.tag(4, WireType.LengthDelimited).string(s));
    expect(ours).toEqual(theirs);
  });

  it('nested messages: empty, short, exactly 127 and 128 octets, long, and deep', () => {
    const { ours, theirs } = both((w) => {
      w.tag(1, WireType.LengthDelimited).fork().join(); // empty (append: false)
      w.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string('a'.repeat(125)).join(); // 127
      w.tag(2, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string('a'.repeat(126)).join(); // 128
      w.tag(3, WireType.LengthDelimited).fork();
      for (let depth = 0; depth < 30; depth++) w.tag(5, WireType.LengthDelimited).fork();
      w.tag(1, WireType.LengthDelimited).string('z'.repeat(70_000));
      for (let depth = 0; depth < 30; depth++) w.join();
      w.tag(6, WireType.Varint).uint32(1).join();
    });
    expect(ours).toEqual(theirs);
  });

  it('random scripts of every call, nested (seeded)', () => {
    const rand = prng(7);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    for (let n = 0; n < 300; n++) {
      const steps: ((w: Parameters<Script>[0]) => void)[] = [];
      let open = 0;
      for (let i = 0, count = 1 + Math.floor(rand() * 40); i < count; i++) {
        const r = rand();
        const no = 1 + Math.floor(rand() * 3000);
        if (r < 0.2) {
          open++;
          steps.push((w) => w.tag(no, WireType.LengthDelimited).fork());
        } else if (r < 0.35 && open > 0) {
          open--;
          steps.push((w) => w.join());
        } else if (r < 0.5) {
          const v = pick(VARINTS);
          steps.push((w) => w.tag(no, WireType.Varint).uint32(v));
        } else if (r < 0.6) {
          const v = pick(INT32S);
          steps.push((w) => w.tag(no, WireType.Varint).int32(v));
        } else if (r < 0.7) {
          const v = pick(DOUBLES);
          steps.push((w) => w.tag(no, WireType.Bit64).double(v));
        } else {
          const v = pick(STRINGS).slice(0, Math.floor(rand() * 300));
          steps.push((w) => w.tag(no, WireType.LengthDelimited).string(v));
        }
      }
      while (open-- > 0) steps.push((w) => w.join());
      const { ours, theirs } = both((w) => {
        for (const step of steps) step(w);
      });
      expect(ours).toEqual(theirs);
    }
  });

  it('starts each message clean: finish() and reset() drop what was written, a later message leaves an earlier result alone', () => {
    const w = new ProtoWriter();
    const first = w.tag(1, WireType.LengthDelimited).string('a'.repeat(300)).finish();
    const copy = Array.from(first);
    expect(Array.from(w.tag(2, WireType.Varint).uint32(7).finish())).toEqual([0x10, 7]);
    expect(Array.from(first)).toEqual(copy);
    w.tag(1, WireType.LengthDelimited).fork().string('half');
    w.reset();
    expect(Array.from(w.tag(2, WireType.Varint).uint32(1).finish())).toEqual([0x10, 1]);
  });

  it('refuses join() without fork() and finish() inside a fork()', () => {
    expect(() => new ProtoWriter().join()).toThrow('join() without fork()');
    expect(() => new ProtoWriter().fork().finish()).toThrow('finish() inside a fork()');
  });
});
