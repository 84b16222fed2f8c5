// Reading and writing protobuf messages straight on the wire, for the services' hot paths: only the
// fields a handler uses are read, the others skipped exactly as protobuf-es's fromBinary consumes
// them, so a hand-written decoder and fromBinary agree on valid, odd and corrupted input alike.
import { type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import { type BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { ProtoWriter } from './proto-writer.js';
import { internAscii } from './string-intern.js';

/** Field number and UTF-8 strictness of `schema.field[name]`, checked to exist at start-up. */
export function field(schema: DescMessage, name: string): { no: number; strict: boolean } {
  const f = schema.fields.find((x) => x.localName === name);
  if (!f) throw new Error(`${schema.typeName} has no field ${name}`);
  return { no: f.number, strict: (f as { utf8Validation?: boolean }).utf8Validation ?? true };
}

export const RECURSION_LIMIT = 100;

// How protobuf-es consumes a field it knows: by its declared type, whatever the wire type says
// (except a packed list). Skipping a known field the same way keeps the two decoders in step on
// corrupted input.
type Skip = (r: BinaryReader, wt: WireType, no: number, budget: number) => void;

function wireTypeOf(scalar: ScalarType): WireType {
  switch (scalar) {
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return WireType.Bit32;
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return WireType.LengthDelimited;
    default:
      return WireType.Varint;
  }
}

function skipperOf(f: DescField): Skip {
  const declared =
    (wt: WireType): Skip =>
    (r, _, no, budget) =>
      skipField(r, wt, no, budget);
  switch (f.fieldKind) {
    case 'scalar':
      return declared(wireTypeOf(f.scalar));
    case 'enum':
      return declared(WireType.Varint);
    case 'message':
    case 'map':
      return declared(f.delimitedEncoding ? WireType.StartGroup : WireType.LengthDelimited);
    case 'list': {
      if (f.listKind === 'message')
        return declared(f.delimitedEncoding ? WireType.StartGroup : WireType.LengthDelimited);
      const element = f.listKind === 'enum' ? WireType.Varint : wireTypeOf(f.scalar);
      const packable = element !== WireType.LengthDelimited;
      return (r, wt, no, budget) =>
        skipField(r, packable && wt === WireType.LengthDelimited ? WireType.LengthDelimited : element, no, budget);
    }
  }
}

const skippers = new Map<DescMessage, Map<number, Skip>>();
export function skippersOf(schema: DescMessage): Map<number, Skip> {
  let m = skippers.get(schema);
  if (!m) {
    m = new Map(schema.fields.map((f) => [f.number, skipperOf(f)]));
    skippers.set(schema, m);
  }
  return m;
}

// The reader's bytes (a public field of BinaryReader, typed private).
const bufferOf = (r: BinaryReader) => (r as unknown as { buf: Uint8Array }).buf;

/**
 * The next field's tag, checked as protobuf-es's BinaryReader.tag() checks it (same errors), as one
 * number: field number `tag >>> 3`, wire type `tag & 7`. tag() returns a new array per field.
 */
export function readTag(r: BinaryReader): number {
  const start = r.pos;
  const tag = r.uint32();
  const bytesRead = r.pos - start;
  if (bytesRead > 5 || (bytesRead === 5 && bufferOf(r)[r.pos - 1] > 0x0f)) {
    throw new Error('illegal tag: varint overflows uint32');
  }
  const no = tag >>> 3;
  const wt = tag & 7;
  if (no <= 0 || wt > 5) throw new Error(`illegal tag: field no ${no} wire type ${wt}`);
  return tag;
}

/**
 * A string field at the reader's position: what `r.string(strict)` returns (and throws), without
 * its garbage: protobuf-es builds an array of char codes (up to 32 bytes) or a view (longer) per
 * string; an ASCII string here is sliced straight from the Buffer. Non-ASCII goes through
 * protobuf-es's own UTF-8 decoding.
 */
export function readString(r: BinaryReader, strict: boolean): string {
  return readStringOf(r, r.uint32(), strict);
}

/** readString once its length has been read. */
function readStringOf(r: BinaryReader, len: number, strict: boolean): string {
  const start = r.pos;
  const end = start + len;
  r.pos = end;
  if (end > r.len) throw new RangeError('premature EOF');
  const buf = bufferOf(r);
  // One character per byte: exact for ASCII; a byte above 0x7f means UTF-8 to decode properly.
  const text = asciiText(buf, start, end);
  return NOT_ASCII.test(text) ? decodeUtf8Of(r)(buf.subarray(start, end), strict) : text;
}

/**
 * readString for a string that recurs from message to message (a header name, a policy name, a
 * descriptor key): a short ASCII one comes from string-intern.ts's table. Never for a secret.
 */
export function readInternedString(r: BinaryReader, strict: boolean): string {
  const len = r.uint32();
  const start = r.pos;
  const end = start + len;
  const buf = bufferOf(r);
  if (end <= r.len) {
    const known = internAscii(buf, start, end, asciiText);
    if (known !== undefined) {
      r.pos = end;
      return known;
    }
  }
  r.pos = start;
  return readStringOf(r, len, strict);
}

/**
 * `buf[start, end)` one character per octet: the text of ASCII octets. The services read a Buffer
 * (the gRPC request body); for another Uint8Array a Buffer view is made here.
 */
export function asciiText(buf: Uint8Array, start: number, end: number): string {
  return latin1(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), start, end);
}

/** Whether `buf[start, end)` is ASCII (then it is valid UTF-8, and asciiText reads it). */
export function isAscii(buf: Uint8Array, start: number, end: number): boolean {
  let bits = 0;
  for (let i = start; i < end; i++) bits |= buf[i];
  return (bits & 0x80) === 0;
}
const NOT_ASCII = /[\u0080-\u00ff]/;
type Latin1Slice = { latin1Slice(start: number, end: number): string };
// Buffer's latin1Slice is what toString('latin1', start, end) calls once it has checked its
// arguments; undocumented, so toString stands in where it is missing.
const latin1: (b: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as unknown as Partial<Latin1Slice>).latin1Slice === 'function'
    ? (b, start, end) => (b as unknown as Latin1Slice).latin1Slice(start, end)
    : (b, start, end) => b.toString('latin1', start, end);

/**
 * `r.skip(wt, no, budget)` without its result: protobuf-es returns the skipped bytes as a view, a
 * garbage object per skipped field. Same moves and errors; groups and bad wire types go to r.skip.
 */
export function skipField(r: BinaryReader, wt: WireType, no: number, budget: number): void {
  switch (wt) {
    case WireType.Varint: {
      const buf = bufferOf(r);
      while (buf[r.pos++] & 0x80) {
        // the varint's bytes
      }
      break;
    }
    case WireType.Bit64:
      r.pos += 8;
      break;
    case WireType.Bit32:
      r.pos += 4;
      break;
    case WireType.LengthDelimited: {
      const len = r.uint32();
      r.pos += len;
      break;
    }
    default:
      r.skip(wt, no, budget);
      return;
  }
  if (r.pos > r.len) throw new RangeError('premature EOF');
}

// protobuf-es's UTF-8 decoder held by the reader (typed private).
const decodeUtf8Of = (r: BinaryReader) =>
  (r as unknown as { decodeUtf8: (bytes: Uint8Array, strict: boolean) => string }).decodeUtf8;

/**
 * Runs `each` for every field of the length-delimited message of type `schema` (undefined: a map
 * entry) at the reader's position; the fields it does not take are skipped.
 */
export function eachField(
  r: BinaryReader,
  depth: number,
  schema: DescMessage | undefined,
  each: (no: number, wt: WireType) => boolean,
): void {
  if (depth > RECURSION_LIMIT) throw new Error('maximum recursion depth reached');
  const known = schema ? skippersOf(schema) : undefined;
  const length = r.uint32(); // before reading r.pos: uint32() moves it
  const end = r.pos + length;
  while (r.pos < end) {
    const tag = readTag(r);
    const no = tag >>> 3;
    const wt: WireType = tag & 7;
    if (each(no, wt)) continue;
    const skip = known?.get(no);
    if (skip) skip(r, wt, no, RECURSION_LIMIT - depth);
    else skipField(r, wt, no, RECURSION_LIMIT - depth);
  }
}

/** Runs `each` for every top-level field of a serialized message of type `schema`; skips the others. */
export function eachTopField(r: BinaryReader, schema: DescMessage, each: (no: number, wt: WireType) => boolean): void {
  const known = skippersOf(schema);
  while (r.pos < r.len) {
    const tag = readTag(r);
    const no = tag >>> 3;
    const wt: WireType = tag & 7;
    if (each(no, wt)) continue;
    const skip = known.get(no);
    if (skip) skip(r, wt, no, RECURSION_LIMIT);
    else skipField(r, wt, no, RECURSION_LIMIT);
  }
}

// One writer for every message encoded on the hot paths (proto-writer.ts): after the first few
// messages its buffer is large enough, so encoding allocates nothing but the result. Encoding is
// synchronous, so calls never interleave.
const shared = new ProtoWriter();

/** The bytes `write` puts in a fresh message, written with the shared writer. */
export function encodeMessage(write: (w: ProtoWriter) => void): Buffer {
  try {
    write(shared);
    return shared.finish();
  } catch (e) {
    shared.reset(); // drop what was half written: the next message starts clean
    throw e;
  }
}
