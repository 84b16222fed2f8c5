// A protobuf writer for the services' answers, writing straight into one reusable buffer. The
// methods are protobuf-es BinaryWriter's (tag, uint32, int32, int64, double, string, fork, join)
// and write the same bytes, refusing the same out-of-range numbers, (proto-writer.test.ts holds the two together), at a fraction of the
// cost: BinaryWriter keeps bytes in a JS array and copies every nested message into a new
// Uint8Array at its join(), which made encoding a CheckResponse cost more than deciding it.
//
// A nested message (fork) reserves one octet for its length; join() writes it there, moving the
// message along in the rare case its length needs more octets (128 or more).
import type { WireType } from '@bufbuild/protobuf/wire';

const START_BYTES = 4096;
/** A buffer grown past this for one large message is not kept for the next. */
const KEEP_BYTES = 1024 * 1024;

export class ProtoWriter {
  private buf = Buffer.allocUnsafeSlow(START_BYTES);
  private pos = 0;
  /** Where the length octet of each open fork() is. */
  private readonly forks: number[] = [];

  tag(fieldNo: number, type: WireType): this {
    return this.uint32(fieldNo * 8 + type);
  }

  uint32(value: number): this {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) throw new Error(`invalid uint32: ${value}`);
    this.room(5);
    this.pos = writeVarint32(this.buf, this.pos, value >>> 0);
    return this;
  }

  /** As protobuf: a negative value is sign-extended to 64 bits (ten octets). */
  int32(value: number): this {
    if (!(Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff)) {
      throw new Error(`invalid int32: ${value}`);
    }
    if (value >= 0) return this.uint32(value);
    this.room(10);
    this.pos = writeVarint64(this.buf, this.pos, value >>> 0, 0xffffffff);
    return this;
  }

  /** A safe integer (a number, as the services hold them). */
  int64(value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`int64 must be a safe integer, got ${value}`);
    const lo = value >>> 0; // the low 32 bits of the two's complement (also for negatives)
    const hi = Math.floor(value / 2 ** 32) >>> 0;
    this.room(10);
    this.pos = writeVarint64(this.buf, this.pos, lo, hi);
    return this;
  }

  double(value: number): this {
    this.room(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
    return this;
  }

  /** Length and UTF-8 octets. ASCII (the usual case: names, ids) is copied in JS, without a call into C++. */
  string(value: string): this {
    const n = value.length;
    this.room(5 + n * 3); // at most 3 octets per UTF-16 code unit
    const buf = this.buf;
    const at = this.pos + varint32Size(n);
    let i = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + i] = c;
    }
    if (i === n) {
      this.pos = writeVarint32(buf, this.pos, n) + n;
      return this;
    }
    const bytes = Buffer.byteLength(value);
    this.pos = writeVarint32(buf, this.pos, bytes);
    this.pos += buf.write(value, this.pos);
    return this;
  }

  /** Starts a nested message (after its tag); join() ends it. */
  fork(): this {
    this.room(1);
    this.forks.push(this.pos);
    this.pos += 1;
    return this;
  }

  join(): this {
    const at = this.forks.pop();
    if (at === undefined) throw new Error('ProtoWriter: join() without fork()');
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.buf[at] = length;
      return this;
    }
    const extra = varint32Size(length) - 1;
    this.room(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    writeVarint32(this.buf, at, length);
    this.pos += extra;
    return this;
  }

  /** The message written since the last finish() or reset(), as bytes of its own; the writer starts again. */
  finish(): Buffer {
    if (this.forks.length) throw new Error('ProtoWriter: finish() inside a fork()');
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.reset();
    return out;
  }

  /** Drops what was written (after a write that failed half way). */
  reset(): void {
    this.pos = 0;
    this.forks.length = 0;
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafeSlow(START_BYTES);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }
}

function varint32Size(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** `v` (an unsigned 32-bit value) as a varint at `pos`; the position after it. */
function writeVarint32(buf: Buffer, pos: number, v: number): number {
  while (v > 0x7f) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** The 64-bit value hi:lo (each unsigned 32 bits) as a varint at `pos`; the position after it. */
function writeVarint64(buf: Buffer, pos: number, lo: number, hi: number): number {
  while (hi !== 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}
