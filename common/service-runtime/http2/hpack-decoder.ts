// HPACK (RFC 7541) header block decoder, the receiving side of an HTTP/2 server connection.
// Names and values are latin1 strings (one char per octet): header values are octets, and a
// field taken from the static or dynamic table is handed over as the very string stored there.
import { decodeHuffman, HpackError } from './huffman.js';

export { HpackError };

// RFC 7541 Appendix A, index 1..61 (slot 0 unused).
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_COUNT = STATIC_TABLE.length - 1;
const STATIC_NAMES = STATIC_TABLE.map((e) => e[0]);
const STATIC_VALUES = STATIC_TABLE.map((e) => e[1]);

/** Octets a table entry counts beyond its name and value (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;
/** Largest integer accepted (indexes, string lengths, table sizes): more is an attack or a bug. */
const MAX_INTEGER = 2 ** 30;
/** Continuation octets of an integer: 5 carry 35 bits, more than MAX_INTEGER needs. */
const MAX_INTEGER_OCTETS = 5;

type Latin1Slice = { latin1Slice(start: number, end: number): string };
type Block = Buffer & Latin1Slice;

export class HpackDecoder {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the most a dynamic table size update may ask for. */
  private readonly maxTableSize: number;
  /** The dynamic table's current maximum size, as last set by the encoder. */
  private limit: number;
  /** Sum of the entries' sizes. */
  private size = 0;
  // The dynamic table: a ring of `count` entries, the newest (index 62) at `head`, older ones
  // after it. Capacity is a power of two, doubled when full.
  private names: string[] = new Array<string>(16).fill('');
  private values: string[] = new Array<string>(16).fill('');
  private mask = 15;
  private head = 0;
  private count = 0;
  /** Read position in the block being decoded, for the integer and string readers. */
  private pos = 0;

  constructor(maxTableSize = 4096) {
    if (!Number.isInteger(maxTableSize) || maxTableSize < 0 || maxTableSize > MAX_INTEGER) {
      throw new RangeError(`bad HPACK table size ${maxTableSize}`);
    }
    this.maxTableSize = maxTableSize;
    this.limit = maxTableSize;
  }

  /**
   * Decodes one complete header block (all of HEADERS + CONTINUATION payloads, padding/priority
   * already removed), calling onHeader(name, value) for each field in order. Throws HpackError on
   * any malformed input; after a throw the decoder's state is unusable (the connection is closed
   * with COMPRESSION_ERROR). onHeader must not throw either: the rest of the block still has to be
   * decoded to keep the dynamic table in step with the peer's, so a rejected stream is noted, not
   * thrown.
   */
  decode(block: Uint8Array, onHeader: (name: string, value: string) => void): void {
    const buf = (
      Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength)
    ) as Block;
    const end = buf.length;
    let pos = 0;
    let fieldSeen = false;
    while (pos < end) {
      const b = buf[pos++];
      if (b & 0x80) {
        // Indexed header field (§6.1): 1xxxxxxx, 7-bit index.
        let index = b & 0x7f;
        if (index === 0x7f) {
          this.pos = pos;
          index = this.integerTail(buf, end, index);
          pos = this.pos;
        }
        if (index === 0) throw new HpackError('indexed header field with index 0');
        fieldSeen = true;
        if (index <= STATIC_COUNT) {
          onHeader(STATIC_NAMES[index], STATIC_VALUES[index]);
        } else {
          const slot = this.slot(index);
          onHeader(this.names[slot], this.values[slot]);
        }
        continue;
      }
      if ((b & 0xe0) === 0x20) {
        // Dynamic table size update (§6.3): 001xxxxx, 5-bit size; only before the first field.
        if (fieldSeen) throw new HpackError('dynamic table size update after a header field');
        let limit = b & 0x1f;
        if (limit === 0x1f) {
          this.pos = pos;
          limit = this.integerTail(buf, end, limit);
          pos = this.pos;
        }
        if (limit > this.maxTableSize) {
          throw new HpackError(`dynamic table size update to ${limit}, above our ${this.maxTableSize}`);
        }
        this.limit = limit;
        this.evictTo(limit);
        continue;
      }
      // Literal header field (§6.2): 01xxxxxx with incremental indexing (6-bit name index),
      // 0000xxxx without indexing or 0001xxxx never indexed (4-bit name index); index 0 means the
      // name follows as a string, then the value.
      fieldSeen = true;
      const indexing = (b & 0x40) !== 0;
      const prefixMax = indexing ? 0x3f : 0x0f;
      let index = b & prefixMax;
      this.pos = pos;
      if (index === prefixMax) index = this.integerTail(buf, end, index);
      let name: string;
      if (index === 0) name = this.string(buf, end);
      else if (index <= STATIC_COUNT) name = STATIC_NAMES[index];
      else name = this.names[this.slot(index)];
      const value = this.string(buf, end);
      pos = this.pos;
      if (indexing) this.insert(name, value);
      onHeader(name, value);
    }
  }

  /** Ring slot of dynamic table index (62 = newest); HpackError past the table's end. */
  private slot(index: number): number {
    const i = index - STATIC_COUNT - 1;
    if (i >= this.count) throw new HpackError(`header table index ${index} past the table's end`);
    return (this.head + i) & this.mask;
  }

  /**
   * An integer whose N-bit prefix was all ones (`value` = 2^N - 1): adds the continuation octets
   * from this.pos (7 bits each, least significant first) and moves this.pos past them.
   */
  private integerTail(buf: Uint8Array, end: number, value: number): number {
    let pos = this.pos;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i === MAX_INTEGER_OCTETS) throw new HpackError('integer encoding too long');
      if (pos >= end) throw new HpackError('truncated integer');
      const b = buf[pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    if (value > MAX_INTEGER) throw new HpackError(`integer ${value} too large`);
    this.pos = pos;
    return value;
  }

  /** A string literal (§5.2) at this.pos: H bit, 7-bit length, octets (raw or Huffman-coded). */
  private string(buf: Block, end: number): string {
    let pos = this.pos;
    if (pos >= end) throw new HpackError('truncated header field');
    const b = buf[pos++];
    let length = b & 0x7f;
    if (length === 0x7f) {
      this.pos = pos;
      length = this.integerTail(buf, end, length);
      pos = this.pos;
    }
    const stop = pos + length;
    if (stop > end) throw new HpackError('string literal past the end of the header block');
    this.pos = stop;
    return b & 0x80 ? decodeHuffman(buf, pos, stop) : buf.latin1Slice(pos, stop);
  }

  /** Adds an entry as the newest, evicting the oldest ones to make room (§4.4). */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.limit) {
      // Larger than the whole table: empties it and is not added.
      this.evictTo(0);
      return;
    }
    this.evictTo(this.limit - size);
    if (this.count > this.mask) this.grow();
    const slot = (this.head - 1) & this.mask;
    this.names[slot] = name;
    this.values[slot] = value;
    this.head = slot;
    this.count++;
    this.size += size;
  }

  /** Evicts the oldest entries until the table's size is at most `target`. */
  private evictTo(target: number): void {
    const { names, values, mask } = this;
    while (this.size > target) {
      const slot = (this.head + --this.count) & mask;
      this.size -= names[slot].length + values[slot].length + ENTRY_OVERHEAD;
      // Let the strings go.
      names[slot] = '';
      values[slot] = '';
    }
  }

  /** Doubles the ring's capacity, the entries moved to slots 0..count-1 in age order. */
  private grow(): void {
    const capacity = (this.mask + 1) * 2;
    const names = new Array<string>(capacity).fill('');
    const values = new Array<string>(capacity).fill('');
    for (let i = 0; i < this.count; i++) {
      names[i] = this.names[(this.head + i) & this.mask];
      values[i] = this.values[(this.head + i) & this.mask];
    }
    this.names = names;
    this.values = values;
    this.mask = capacity - 1;
    this.head = 0;
  }
}
