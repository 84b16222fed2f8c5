// The parts of gRPC's HTTP/2 wire protocol (grpc/grpc doc/PROTOCOL-HTTP2.md) that our server
// speaks: status codes, the 5-byte message prefix, and grpc-message's percent-encoding.

/** gRPC status codes (the values of @grpc/grpc-js's `status`). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** A message's length prefix: 1 byte compressed flag + 4 bytes big-endian length. */
export const MESSAGE_PREFIX_BYTES = 5;

/** One uncompressed message as it goes on the wire (prefix + bytes). */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(MESSAGE_PREFIX_BYTES + message.byteLength);
  writeMessagePrefix(out, message.byteLength);
  out.set(message, MESSAGE_PREFIX_BYTES);
  return out;
}

/** The prefix of an uncompressed message of `length` bytes, written at the start of `out`. */
export function writeMessagePrefix(out: Buffer, length: number): void {
  out[0] = 0;
  out.writeUInt32BE(length, 1);
}

/** Why a request body is not exactly one uncompressed message. */
export class FramingError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The single message of a unary request body (the concatenated DATA frames). Throws a
 * FramingError: INTERNAL for a truncated or missing message, UNIMPLEMENTED for a compressed one
 * (we announce no grpc-encoding) or for more than one.
 */
export function singleMessage(body: Buffer): Buffer {
  if (body.length < MESSAGE_PREFIX_BYTES) {
    throw new FramingError(GrpcStatus.INTERNAL, body.length ? 'truncated message prefix' : 'no request message');
  }
  const length = body.readUInt32BE(1);
  const end = MESSAGE_PREFIX_BYTES + length;
  if (end > body.length) throw new FramingError(GrpcStatus.INTERNAL, 'truncated request message');
  if (body[0] !== 0) {
    throw new FramingError(GrpcStatus.UNIMPLEMENTED, 'compressed messages are not supported (grpc-encoding: identity)');
  }
  if (end < body.length) throw new FramingError(GrpcStatus.UNIMPLEMENTED, 'more than one request message');
  return body.subarray(MESSAGE_PREFIX_BYTES, end);
}

/**
 * grpc-message's encoding: UTF-8, with '%' and every byte outside printable ASCII (0x20–0x7E)
 * written as %XX.
 */
export function encodeGrpcMessage(text: string): string {
  // The common case (short ASCII text without '%') goes out as it is.
  if (/^[\x20-\x24\x26-\x7e]*$/.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${hex(byte)}`;
  }
  return out;
}

function hex(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}
