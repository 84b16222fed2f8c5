// gRPC message framing over HTTP/2 ("Length-Prefixed-Message" of the gRPC wire protocol):
// 1 byte compressed flag (0), 4 bytes big-endian length, then the message bytes. Used to build
// request bodies for h2load, which posts raw bytes.
import fs from 'node:fs';

/** Frames one (uncompressed) protobuf message. */
export function grpcFrame(messageBytes) {
  const msg = Buffer.from(messageBytes.buffer, messageBytes.byteOffset, messageBytes.byteLength);
  const out = Buffer.allocUnsafe(5 + msg.length);
  out[0] = 0;
  out.writeUInt32BE(msg.length, 1);
  msg.copy(out, 5);
  return out;
}

/** Splits a body of framed messages back into their message bytes (throws on a truncated frame). */
export function grpcUnframe(body) {
  const messages = [];
  let i = 0;
  while (i < body.length) {
    if (i + 5 > body.length) throw new Error(`truncated gRPC frame header at byte ${i}`);
    const compressed = body[i];
    const len = body.readUInt32BE(i + 1);
    if (i + 5 + len > body.length) throw new Error(`truncated gRPC frame at byte ${i}: ${len} bytes announced`);
    messages.push({ compressed: compressed === 1, bytes: body.subarray(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return messages;
}

/** Writes one framed message to `file` (for `h2load -d file`); returns the file path. */
export function writeGrpcBody(file, messageBytes) {
  fs.writeFileSync(file, grpcFrame(messageBytes));
  return file;
}

/** The headers h2load needs for a gRPC unary call (add them with -H each). */
export const GRPC_REQUEST_HEADERS = ['content-type: application/grpc', 'te: trailers'];
