// What an HTTP/2 server connection writes: frames queued and written in one socket write per
// event-loop turn (every answer produced while handling a read, promises included, goes out
// together), and send-side flow control (RFC 9113 §6.9): the peer's connection and stream
// windows, data waiting for them, its SETTINGS_MAX_FRAME_SIZE. What it holds for a peer that does
// not read (in the socket, or waiting for a window) is bounded: beyond it the socket is destroyed.
import type net from 'node:net';
import {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW_SIZE,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  writeFrameHeader,
} from './frames.js';
import type { Http2ServerStream } from './server-stream.js';

/** A dynamic table size update to 0 (RFC 7541 §6.3). */
const TABLE_SIZE_UPDATE_0 = Buffer.from([0x20]);

export class Http2Output {
  /** The peer's SETTINGS_MAX_FRAME_SIZE. */
  peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  /** The peer's connection-level window for our DATA. */
  sendWindow = DEFAULT_WINDOW_SIZE;
  /** Streams whose data waits for the connection window (one waiting for its own window is pumped when that opens). */
  private readonly blocked = new Set<Http2ServerStream>();
  /** HEADERS or DATA queued since the last call of answeredSincePing(). */
  private streamFramesQueued = false;
  private readonly out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private stopped = false;
  /** Octets of DATA waiting for a window, over all streams. */
  private waiting = 0;
  /** The peer's decoder expects a table size update at the start of our next header block. */
  private tableSizeUpdate = false;

  constructor(
    private readonly socket: net.Socket,
    /** Output held for a peer that does not read, beyond which the socket is destroyed. */
    private readonly maxOutputBytes: number,
    /** After each socket write (the connection counts window credit it granted as given then). */
    private readonly onWritten: () => void,
  ) {}

  /** A frame (or part of one) for the next write. */
  queue(data: Buffer): void {
    if (this.stopped) return;
    this.out.push(data);
    this.outBytes += data.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Writes what is queued now. */
  readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.stopped || this.out.length === 0) return;
    const data = this.out.length === 1 ? this.out[0] : Buffer.concat(this.out, this.outBytes);
    this.out.length = 0;
    this.outBytes = 0;
    this.socket.write(data);
    this.onWritten();
    this.checkHeld();
  };

  /** More held for the peer than maxOutputBytes: it does not read, or keeps its windows shut. */
  private checkHeld(): void {
    if (this.socket.writableLength + this.waiting > this.maxOutputBytes) this.socket.destroy();
  }

  /** After the peer's SETTINGS_HEADER_TABLE_SIZE: our next header block starts with a size update to 0. */
  signalTableSize(): void {
    this.tableSizeUpdate = true;
  }

  /** A header block as sent: with the table size update the peer awaits, once. */
  private withTableSizeUpdate(block: Buffer): Buffer {
    if (!this.tableSizeUpdate) return block;
    this.tableSizeUpdate = false;
    return Buffer.concat([TABLE_SIZE_UPDATE_0, block]);
  }

  /** Nothing more is written (the connection is closed or closing with its last frames flushed). */
  stop(): void {
    this.stopped = true;
    this.out.length = 0;
    this.outBytes = 0;
    this.blocked.clear();
    this.waiting = 0;
  }

  /** DATA for a stream, sent as its windows allow (pump()). */
  enqueue(stream: Http2ServerStream, data: Uint8Array): void {
    if (stream.pending) stream.pending.push(data);
    else stream.pending = [data];
    stream.pendingBytes += data.byteLength;
    this.waiting += data.byteLength;
  }

  /** A header block as HEADERS, and CONTINUATIONs beyond the peer's frame size. */
  headerBlock(streamId: number, headerBlock: Buffer, endStream: boolean): void {
    this.streamFramesQueued = true;
    const block = this.withTableSizeUpdate(headerBlock);
    const max = this.peerMaxFrameSize;
    const endFlag = endStream ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + block.length);
      writeFrameHeader(out, 0, block.length, FrameType.HEADERS, Flag.END_HEADERS | endFlag, streamId);
      block.copy(out, FRAME_HEADER_BYTES);
      this.queue(out);
      return;
    }
    for (let at = 0; at < block.length; at += max) {
      const part = block.subarray(at, Math.min(at + max, block.length));
      const last = at + max >= block.length;
      const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
      const flags = (at === 0 ? endFlag : 0) | (last ? Flag.END_HEADERS : 0);
      const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
      writeFrameHeader(head, 0, part.length, type, flags, streamId);
      this.queue(head);
      this.queue(part);
    }
  }

  /**
   * HEADERS, one DATA and the trailers' HEADERS (END_STREAM) in one buffer, when the windows and
   * the peer's frame size let all of it go now; false (nothing queued) otherwise.
   */
  answer(stream: Http2ServerStream, headers: Buffer, body: readonly Uint8Array[], trailers: Buffer): boolean {
    if (this.tableSizeUpdate) return false; // rare: the general path adds the update
    let bodyLength = 0;
    for (const part of body) bodyLength += part.byteLength;
    const max = this.peerMaxFrameSize;
    if (
      bodyLength > max ||
      headers.length > max ||
      trailers.length > max ||
      bodyLength > stream.sendWindow ||
      bodyLength > this.sendWindow
    ) {
      return false;
    }
    const out = Buffer.allocUnsafe(3 * FRAME_HEADER_BYTES + headers.length + bodyLength + trailers.length);
    writeFrameHeader(out, 0, headers.length, FrameType.HEADERS, Flag.END_HEADERS, stream.id);
    let at = FRAME_HEADER_BYTES;
    headers.copy(out, at);
    at += headers.length;
    writeFrameHeader(out, at, bodyLength, FrameType.DATA, 0, stream.id);
    at += FRAME_HEADER_BYTES;
    for (const part of body) {
      out.set(part, at);
      at += part.byteLength;
    }
    writeFrameHeader(out, at, trailers.length, FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, stream.id);
    trailers.copy(out, at + FRAME_HEADER_BYTES);
    stream.sendWindow -= bodyLength;
    this.sendWindow -= bodyLength;
    this.streamFramesQueued = true;
    this.queue(out);
    return true;
  }

  /**
   * Queues what the windows allow of a stream's waiting data, then its trailers once all is out.
   * True when that queued the stream's END_STREAM.
   */
  pump(stream: Http2ServerStream): boolean {
    const pending = stream.pending;
    if (pending) {
      while (pending.length > 0) {
        const window = Math.min(stream.sendWindow, this.sendWindow);
        if (window <= 0) {
          if (stream.sendWindow > 0) this.blocked.add(stream);
          else this.blocked.delete(stream);
          this.checkHeld();
          return false;
        }
        const chunk = pending[0];
        const n = Math.min(chunk.byteLength, window, this.peerMaxFrameSize);
        const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
        writeFrameHeader(head, 0, n, FrameType.DATA, 0, stream.id);
        this.streamFramesQueued = true;
        this.queue(head);
        this.queue(asBuffer(n === chunk.byteLength ? chunk : chunk.subarray(0, n)));
        if (n === chunk.byteLength) pending.shift();
        else pending[0] = chunk.subarray(n);
        stream.sendWindow -= n;
        this.sendWindow -= n;
        stream.pendingBytes -= n;
        this.waiting -= n;
      }
      stream.pending = undefined;
      this.blocked.delete(stream);
    }
    const trailers = stream.pendingTrailers;
    if (!trailers) return false;
    stream.pendingTrailers = undefined;
    stream.headersSent = true; // without respond(), the trailers are a Trailers-Only answer
    this.headerBlock(stream.id, trailers, true);
    return true;
  }

  /**
   * After the connection window grew: pumps the streams waiting for it, until it is used up;
   * `ended` for each whose END_STREAM went out. Only streams that wait for the connection window
   * are in the set, so a flood of small WINDOW_UPDATEs costs a stream or two each, not a walk.
   */
  pumpBlocked(ended: (stream: Http2ServerStream) => void): void {
    for (const stream of this.blocked) {
      if (this.sendWindow <= 0) return;
      if (this.pump(stream)) ended(stream);
    }
  }

  /**
   * Whether HEADERS or DATA went out since the last call: a client's PING after our answers is a
   * gRPC client measuring its bandwidth (as grpc-go does), not a flood ("ping strikes").
   */
  answeredSincePing(): boolean {
    const answered = this.streamFramesQueued;
    this.streamFramesQueued = false;
    return answered;
  }

  /** A closed stream waits for nothing: its waiting data is dropped. */
  forget(stream: Http2ServerStream): void {
    this.blocked.delete(stream);
    if (!this.stopped) this.waiting -= stream.pendingBytes;
    stream.pendingBytes = 0;
    stream.pending = undefined;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
