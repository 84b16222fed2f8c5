// Reads the request body of the gRPC server's calls, within bounds: one message of at most
// maxMessage octets per call, at most maxBuffered octets held over all calls being read (both
// answered RESOURCE_EXHAUSTED, the upload stopped), and each call's request complete within
// readTimeoutMs (DEADLINE_EXCEEDED after: a client that starts a call and never finishes it holds
// nothing for long). Every body octet kept is the reader's own copy, never a view that would keep
// the socket's whole read buffer alive, except a body that arrives whole in one DATA frame and is
// handed on at once.
import { GrpcStatus, MESSAGE_PREFIX_BYTES } from './grpc-protocol.js';
import type { Http2ServerStream } from './http2/server-stream.js';

/** How the reader answers a call it stops (the gRPC server's Trailers-Only status). */
export type RespondStatus = (stream: Http2ServerStream, code: number, message: string) => void;

interface Reading {
  startedAt: number;
  stop(code: number, message: string): void;
}

export class GrpcRequestReader {
  /** Request octets held now by the calls being read. */
  held = 0;
  private readonly limit: number;
  private readonly reading = new Set<Reading>();
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly maxMessage: number,
    private readonly maxBuffered: number,
    private readonly readTimeoutMs: number,
    private readonly respondStatus: RespondStatus,
  ) {
    this.limit = maxMessage + MESSAGE_PREFIX_BYTES;
    this.sweep = setInterval(() => this.stopLate(), Math.max(10, Math.min(1000, readTimeoutMs / 2)));
    this.sweep.unref();
  }

  /** Collects `stream`'s body, then calls `done` (not for a call reset or stopped meanwhile). */
  read(stream: Http2ServerStream, done: (body: Buffer) => void): void {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const release = () => {
      this.held -= size;
      size = 0;
      first = chunks = undefined;
      this.reading.delete(reading);
    };
    const reading: Reading = {
      startedAt: Date.now(),
      stop: (code, message) => {
        release();
        stream.onData = stream.onEnd = undefined;
        this.respondStatus(stream, code, message);
        stream.stopReading();
      },
    };
    this.reading.add(reading);
    stream.onData = (chunk, endStream) => {
      if (size + chunk.length > this.limit) {
        reading.stop(GrpcStatus.RESOURCE_EXHAUSTED, `request message larger than ${this.maxMessage} bytes`);
        return;
      }
      if (this.held + chunk.length > this.maxBuffered) {
        reading.stop(GrpcStatus.RESOURCE_EXHAUSTED, 'server busy: too many request bytes in flight');
        return;
      }
      size += chunk.length;
      this.held += chunk.length;
      // The whole body in one frame is used before this read returns; anything else is copied.
      const own = endStream && first === undefined ? chunk : Buffer.from(chunk);
      if (first === undefined) first = own;
      else if (chunks) chunks.push(own);
      else chunks = [first, own];
    };
    stream.onEnd = () => {
      const body = chunks ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0));
      release();
      done(body);
    };
    stream.onClose = release; // reset mid-body
  }

  /** Stops reading (the server is closed). */
  close(): void {
    clearInterval(this.sweep);
  }

  private stopLate(): void {
    const before = Date.now() - this.readTimeoutMs;
    for (const reading of this.reading) {
      if (reading.startedAt > before) continue;
      reading.stop(GrpcStatus.DEADLINE_EXCEEDED, `request not received within ${this.readTimeoutMs} ms`);
    }
  }
}
