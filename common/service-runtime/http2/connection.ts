// The server side of one HTTP/2 connection (RFC 9113) over a TCP socket, for a gRPC server that
// Envoy calls over a few long-lived connections: frames read straight from the socket's chunks,
// request header blocks HPACK-decoded into the few fields a gRPC server reads (request-head.ts),
// flow control in both directions, and output written once per event-loop turn (output.ts).
//
// What it refuses, and how (RFC 9113 §5.4): a malformed request (request-head.ts) or a decoded
// header list above maxHeaderListSize is reset with PROTOCOL_ERROR; a stream beyond
// maxConcurrentStreams with REFUSED_STREAM; a frame that breaks the protocol (bad preface, size,
// stream id, flow-control window, HPACK block) closes the connection with a GOAWAY naming the
// error. So do a header block above maxHeaderListSize (each frame's header counted, against
// floods of empty CONTINUATIONs); more streams reset per second than maxResetsPerSecond, whoever
// sent the RST_STREAM (a client cancelling, "rapid reset", CVE-2023-44487, or making us reset,
// "MadeYouReset", CVE-2025-8671); and more output held for a peer that does not read than
// maxOutputBytes (the socket is destroyed).
import type net from 'node:net';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW_SIZE,
  ErrorCode,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  goawayFrame,
  MAX_FRAME_SIZE_LIMIT,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  pingFrame,
  rstStreamFrame,
  SETTINGS_ACK,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from './frames.js';
import { HpackDecoder, HpackError } from './hpack-decoder.js';
import { Http2Output } from './output.js';
import { RequestHead } from './request-head.js';
import { Http2ServerStream, type StreamSink } from './server-stream.js';

export interface Http2ConnectionOptions {
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams open at once per connection. */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: what a client may send on a stream before we open its window again. */
  initialWindowSize: number;
  /** Our connection-level receive window. */
  connectionWindowSize: number;
  /** Largest header block (HEADERS + CONTINUATION) and decoded header list, in octets. */
  maxHeaderListSize: number;
  /** A PING this often; no acknowledgement within keepaliveTimeoutMs drops the connection. */
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  /** Streams reset before they were answered, per second, beyond which the connection is closed. */
  maxResetsPerSecond: number;
  /** SETTINGS and PING frames from the client per second, beyond which the connection is closed. */
  maxControlFramesPerSecond: number;
  /** Output held for a peer that does not read, beyond which the connection is dropped. */
  maxOutputBytes: number;
  /** A new request stream, its headers complete. */
  onStream(stream: Http2ServerStream): void;
  /** The socket closed. */
  onClose(): void;
}

const PREFACE_BYTES = CLIENT_PREFACE.length;
// Our PINGs' payloads: a keepalive's ACK must not be taken for close()'s (RFC 9113 §6.7).
const KEEPALIVE_PING = Buffer.from('aigwkeep', 'latin1');
const CLOSE_PING = Buffer.from('aigwdone', 'latin1');
/** How long a closed connection waits for its last frames to be written before the socket is destroyed. */
const LINGER_MS = 1000;

class ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface PartialHeaderBlock {
  streamId: number;
  endStream: boolean;
  parts: Buffer[];
  size: number;
}

export class Http2ServerConnection implements StreamSink {
  private readonly decoder = new HpackDecoder();
  private readonly head: RequestHead;
  private readonly output: Http2Output;
  private readonly streams = new Map<number, Http2ServerStream>();
  private buffered: Buffer | undefined;
  private prefaceSeen = false;
  private settingsSeen = false;
  /** The client acknowledged our SETTINGS: until then it may count stream windows from 65,535. */
  private settingsAcked = false;
  private headerBlock: PartialHeaderBlock | undefined;
  private lastStreamId = 0;
  private peerInitialWindow = DEFAULT_WINDOW_SIZE;
  private recvWindow: number;
  private recvConsumed = 0;
  // Window credit granted by WINDOW_UPDATEs queued but not yet written: it counts only once the
  // client can have seen it, so a client sending beyond the window it was given is caught.
  private credit = 0;
  private readonly streamCredits: [Http2ServerStream, number][] = [];
  private dead = false;
  /** close(): a first GOAWAY went out; `finalGoaway` once the one naming the last stream has. */
  private closing = false;
  private finalGoaway = false;
  private peerGoaway = false;
  private closePingAcked: (() => void) | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private keepaliveTimeout: NodeJS.Timeout | undefined;
  private readonly resets = new RateCounter();
  private readonly controlFrames = new RateCounter();

  constructor(
    readonly socket: net.Socket,
    private readonly opts: Http2ConnectionOptions,
  ) {
    this.head = new RequestHead(opts.maxHeaderListSize);
    this.output = new Http2Output(socket, opts.maxOutputBytes, this.onWritten);
    this.recvWindow = Math.max(opts.connectionWindowSize, DEFAULT_WINDOW_SIZE);
    socket.setNoDelay(true);
    socket.on('data', this.onSocketData);
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.onSocketClose());
    this.output.queue(
      settingsFrame([
        [Setting.MAX_CONCURRENT_STREAMS, opts.maxConcurrentStreams],
        [Setting.INITIAL_WINDOW_SIZE, opts.initialWindowSize],
        [Setting.MAX_HEADER_LIST_SIZE, opts.maxHeaderListSize],
        [Setting.ENABLE_PUSH, 0],
      ]),
    );
    if (this.recvWindow > DEFAULT_WINDOW_SIZE) {
      this.output.queue(windowUpdateFrame(0, this.recvWindow - DEFAULT_WINDOW_SIZE));
    }
    this.keepaliveTimer = setInterval(() => this.keepalive(), opts.keepaliveTimeMs);
    this.keepaliveTimer.unref();
  }

  /** Streams open now. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** The connection is closed, or closing with its last frames written. */
  get isClosed(): boolean {
    return this.dead;
  }

  /**
   * Graceful shutdown, as gRPC servers do it: a first GOAWAY that refuses no stream, then (after a
   * PING round trip, at most graceMs) the final one naming the last stream taken; the connection
   * closes once its streams are done.
   */
  close(graceMs: number): void {
    if (this.dead || this.closing) return;
    this.closing = true;
    this.output.queue(goawayFrame(MAX_STREAM_ID, ErrorCode.NO_ERROR));
    let done = false;
    const final = () => {
      if (done || this.dead) return;
      done = true;
      this.finalGoaway = true;
      this.output.queue(goawayFrame(this.lastStreamId, ErrorCode.NO_ERROR));
      this.endIfIdle();
    };
    this.closePingAcked = final;
    this.output.queue(pingFrame(CLOSE_PING, false));
    setTimeout(final, graceMs).unref();
  }

  /** Drops the connection at once; its open streams close. */
  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    this.onSocketClose();
  }

  // ---- reading -------------------------------------------------------------------------------

  private readonly onSocketData = (chunk: Buffer): void => {
    if (this.dead) return;
    let buf = chunk;
    if (this.buffered) {
      buf = Buffer.concat([this.buffered, chunk]);
      this.buffered = undefined;
    }
    let pos = 0;
    try {
      if (!this.prefaceSeen) {
        const n = Math.min(buf.length, PREFACE_BYTES);
        if (buf.compare(CLIENT_PREFACE, 0, n, 0, n) !== 0) {
          throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'not an HTTP/2 client preface');
        }
        if (buf.length < PREFACE_BYTES) {
          this.buffered = buf;
          return;
        }
        this.prefaceSeen = true;
        pos = PREFACE_BYTES;
      }
      const end = buf.length;
      while (end - pos >= FRAME_HEADER_BYTES) {
        const length = (buf[pos] << 16) | (buf[pos + 1] << 8) | buf[pos + 2];
        if (length > DEFAULT_MAX_FRAME_SIZE) {
          throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} octets`);
        }
        const start = pos + FRAME_HEADER_BYTES;
        if (end - start < length) break;
        const type = buf[pos + 3];
        const flags = buf[pos + 4];
        const streamId = buf.readUInt32BE(pos + 5) & MAX_STREAM_ID;
        pos = start + length;
        this.onFrame(type, flags, streamId, buf.subarray(start, pos));
        if (this.dead) return;
      }
      if (pos < end) this.buffered = buf.subarray(pos);
    } catch (e) {
      this.connectionError(e);
    }
  };

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.headerBlock && (type !== FrameType.CONTINUATION || streamId !== this.headerBlock.streamId)) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'header block interrupted');
    }
    if (!this.settingsSeen && type !== FrameType.SETTINGS) {
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'the client preface must end with SETTINGS');
    }
    switch (type) {
      case FrameType.DATA:
        this.onData(flags, streamId, payload);
        return;
      case FrameType.HEADERS:
        this.onHeaders(flags, streamId, payload);
        return;
      case FrameType.PRIORITY:
        if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (payload.length !== 5) this.resetById(streamId, ErrorCode.FRAME_SIZE_ERROR);
        return;
      case FrameType.RST_STREAM:
        this.onRstStream(streamId, payload);
        return;
      case FrameType.SETTINGS:
        this.onSettings(flags, streamId, payload);
        return;
      case FrameType.PUSH_PROMISE:
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PUSH_PROMISE from a client');
      case FrameType.PING:
        this.onPing(flags, streamId, payload);
        return;
      case FrameType.GOAWAY:
        if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'GOAWAY on a stream');
        if (payload.length < 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'GOAWAY too short');
        this.peerGoaway = true;
        this.endIfIdle();
        return;
      case FrameType.WINDOW_UPDATE:
        this.onWindowUpdate(streamId, payload);
        return;
      case FrameType.CONTINUATION:
        this.onContinuation(flags, streamId, payload);
        return;
      default:
        return; // extension frames are ignored (RFC 9113 §5.5)
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on stream 0');
    const length = payload.length;
    // The whole frame counts against the connection window, whatever becomes of its stream.
    this.recvWindow -= length;
    if (this.recvWindow < 0) throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'connection window exceeded');
    this.recvConsumed += length;
    if (this.recvConsumed >= this.opts.connectionWindowSize / 2) {
      this.output.queue(windowUpdateFrame(0, this.recvConsumed));
      this.credit += this.recvConsumed;
      this.recvConsumed = 0;
    }
    let start = 0;
    let end = length;
    if (flags & Flag.PADDED) {
      if (length < 1 || payload[0] >= length) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'bad DATA padding');
      start = 1;
      end = length - payload[0];
    }
    const stream = this.streams.get(streamId);
    if (!stream) {
      if (streamId > this.lastStreamId) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'DATA on an idle stream');
      return; // a stream closed meanwhile (we reset it, or answered and stopped reading)
    }
    if (stream.remoteEnded) {
      this.resetStream(stream, ErrorCode.STREAM_CLOSED);
      return;
    }
    stream.recvWindow -= length;
    if (stream.recvWindow < 0) {
      this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    try {
      if (end > start) stream.onData?.(payload.subarray(start, end), endStream);
      if (stream.closed) return;
      if (endStream) {
        this.remoteEnd(stream);
        return;
      }
    } catch {
      this.resetStream(stream, ErrorCode.INTERNAL_ERROR); // an application fault ends its stream only
      return;
    }
    stream.recvConsumed += length;
    if (stream.recvConsumed >= this.opts.initialWindowSize / 2) {
      this.output.queue(windowUpdateFrame(streamId, stream.recvConsumed));
      this.streamCredits.push([stream, stream.recvConsumed]);
      stream.recvConsumed = 0;
    }
  }

  /** After each write: the window credit of the WINDOW_UPDATEs in it is now the client's to use. */
  private readonly onWritten = (): void => {
    this.recvWindow += this.credit;
    this.credit = 0;
    if (this.streamCredits.length === 0) return;
    for (const [stream, credit] of this.streamCredits) stream.recvWindow += credit;
    this.streamCredits.length = 0;
  };

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'HEADERS on stream 0');
    let start = 0;
    let end = payload.length;
    if (flags & Flag.PADDED) {
      if (end < 1) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'bad HEADERS padding');
      start = 1;
      end -= payload[0];
    }
    if (flags & Flag.PRIORITY) start += 5;
    if (start > end) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'bad HEADERS padding');
    const fragment = payload.subarray(start, end);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    this.checkHeaderBlockSize(fragment.length);
    if (flags & Flag.END_HEADERS) {
      this.onHeaderBlock(streamId, fragment, endStream);
      return;
    }
    this.headerBlock = { streamId, endStream, parts: [fragment], size: fragment.length };
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const block = this.headerBlock;
    if (!block) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'CONTINUATION without HEADERS');
    // Each frame's header counts too: a flood of empty CONTINUATIONs is bounded like a large block.
    block.size += FRAME_HEADER_BYTES + payload.length;
    this.checkHeaderBlockSize(block.size);
    block.parts.push(payload);
    if (!(flags & Flag.END_HEADERS)) return;
    this.headerBlock = undefined;
    this.onHeaderBlock(streamId, Buffer.concat(block.parts), block.endStream);
  }

  private checkHeaderBlockSize(size: number): void {
    if (size > this.opts.maxHeaderListSize) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, `header block over ${this.opts.maxHeaderListSize} octets`);
    }
  }

  private onHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    const stream = this.streams.get(streamId);
    const isNew = streamId > this.lastStreamId;
    const head = this.head;
    head.reset(!isNew);
    try {
      // Always decoded, even for a stream refused below: the HPACK table must follow the client's.
      this.decoder.decode(block, head.onField);
    } catch (e) {
      if (e instanceof HpackError) throw new ConnectionError(ErrorCode.COMPRESSION_ERROR, e.message);
      throw e;
    }
    if (streamId % 2 === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'a client stream id must be odd');
    if (!isNew) {
      if (!stream) {
        // Trailers of a stream closed meanwhile are dropped; a request reusing a stream id is an error.
        if (head.pseudoSeen) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'stream id not above the last one');
        return;
      }
      if (stream.remoteEnded) {
        this.resetStream(stream, ErrorCode.STREAM_CLOSED);
        return;
      }
      // Trailers: they end the request; gRPC clients send none, and their fields are not read.
      if (!endStream || head.malformed) {
        this.resetStream(stream, ErrorCode.PROTOCOL_ERROR);
        return;
      }
      try {
        this.remoteEnd(stream);
      } catch {
        this.resetStream(stream, ErrorCode.INTERNAL_ERROR);
      }
      return;
    }
    this.lastStreamId = streamId;
    if (this.finalGoaway) return; // beyond the last stream the final GOAWAY named: ignored (RFC 9113 §6.8)
    if (this.streams.size >= this.opts.maxConcurrentStreams) {
      this.refuse(streamId, ErrorCode.REFUSED_STREAM);
      return;
    }
    if (!head.isValidRequest()) {
      this.refuse(streamId, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    const created = new Http2ServerStream(
      this,
      streamId,
      head.method!,
      head.path!,
      head.contentType,
      this.peerInitialWindow,
      this.streamRecvWindow(this.settingsAcked),
    );
    this.streams.set(streamId, created);
    // A request without a body is half-closed from the start: the app sees remoteEnded already.
    created.remoteEnded = endStream;
    try {
      this.opts.onStream(created);
      if (endStream && !created.closed) {
        created.onEnd?.();
        if (created.localEnded) this.closeStream(created);
      }
    } catch {
      this.resetStream(created, ErrorCode.INTERNAL_ERROR); // an application fault ends its stream only
    }
  }

  /** A new stream's receive window: ours once the client has our SETTINGS, never below the default before. */
  private streamRecvWindow(acked: boolean): number {
    return acked ? this.opts.initialWindowSize : Math.max(this.opts.initialWindowSize, DEFAULT_WINDOW_SIZE);
  }

  /** A new stream not taken: RST_STREAM, counted like any stream reset before its answer. */
  private refuse(streamId: number, code: number): void {
    this.output.queue(rstStreamFrame(streamId, code));
    this.countReset();
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM of a bad size');
    if (streamId > this.lastStreamId)
      throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'RST_STREAM on an idle stream');
    const stream = this.streams.get(streamId);
    if (!stream) return;
    const unanswered = !stream.localEnded;
    this.closeStream(stream);
    if (unanswered) this.countReset();
  }

  /**
   * Streams reset before we answered them, per second, whoever sent the RST_STREAM: a client
   * that cancels ("rapid reset") or makes us reset ("MadeYouReset") stream after stream gets
   * work started without its cost. Beyond the limit the connection is closed.
   */
  private countReset(): void {
    if (this.resets.count() > this.opts.maxResetsPerSecond) {
      this.connectionError(new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'too many streams reset'));
    }
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & Flag.ACK) {
      if (payload.length !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      if (!this.settingsAcked) {
        this.settingsAcked = true;
        // A window below the default binds from now on, also for the streams already open (§6.9.2).
        const shrink = this.streamRecvWindow(false) - this.streamRecvWindow(true);
        if (shrink > 0) for (const stream of this.streams.values()) stream.recvWindow -= shrink;
      }
      return;
    }
    if (payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS of a bad size');
    this.settingsSeen = true;
    this.countControlFrame();
    let initialWindow: number | undefined;
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.ENABLE_PUSH && value > 1) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH above 1');
      }
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW_SIZE) {
          throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'initial window too large');
        }
        initialWindow = value; // the last one counts: the streams are walked once per frame
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_FRAME_SIZE_LIMIT) {
          throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE out of range');
        }
        this.output.peerMaxFrameSize = value;
      } else if (id === Setting.HEADER_TABLE_SIZE) {
        // Our encoder keeps no table, but a decoder whose table shrank expects a size update at
        // the start of our next block (RFC 7541 §4.2): we send one, to 0.
        this.output.signalTableSize();
      }
      // The others bind a client, not us.
    }
    this.output.queue(SETTINGS_ACK);
    if (initialWindow === undefined) return;
    const delta = initialWindow - this.peerInitialWindow;
    this.peerInitialWindow = initialWindow;
    for (const stream of this.streams.values()) {
      stream.sendWindow += delta;
      if (stream.sendWindow > MAX_WINDOW_SIZE) {
        throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'stream window too large');
      }
    }
    if (delta <= 0) return;
    // Every stream's window grew: those whose data waits may send now.
    for (const stream of this.streams.values()) {
      if (stream.pending && stream.sendWindow > 0 && this.output.pump(stream)) this.localEnd(stream);
    }
  }

  private onPing(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'PING on a stream');
    if (payload.length !== 8) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'PING of a bad size');
    if (!(flags & Flag.ACK)) {
      if (!this.output.answeredSincePing()) this.countControlFrame();
      this.output.queue(pingFrame(payload, true));
      return;
    }
    // Any acknowledgement shows the peer alive; only close()'s own lets the final GOAWAY go.
    clearTimeout(this.keepaliveTimeout);
    this.keepaliveTimeout = undefined;
    if (this.closePingAcked && payload.equals(CLOSE_PING)) this.closePingAcked();
  }

  /**
   * SETTINGS and PINGs cost a walk or a write each: a client sending them in a flood is dropped.
   * A PING after we sent HEADERS or DATA is not counted (output.answeredSincePing).
   */
  private countControlFrame(): void {
    if (this.controlFrames.count() > this.opts.maxControlFramesPerSecond) {
      throw new ConnectionError(ErrorCode.ENHANCE_YOUR_CALM, 'too many SETTINGS or PING frames');
    }
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new ConnectionError(ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE of a bad size');
    const increment = payload.readUInt32BE(0) & MAX_WINDOW_SIZE;
    if (streamId === 0) {
      if (increment === 0) throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      this.output.sendWindow += increment;
      if (this.output.sendWindow > MAX_WINDOW_SIZE) {
        throw new ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, 'connection window too large');
      }
      this.output.pumpBlocked(this.localEnd);
      return;
    }
    const stream = this.streams.get(streamId);
    if (!stream) {
      if (streamId > this.lastStreamId) {
        throw new ConnectionError(ErrorCode.PROTOCOL_ERROR, 'WINDOW_UPDATE on an idle stream');
      }
      return;
    }
    if (increment === 0) {
      this.resetStream(stream, ErrorCode.PROTOCOL_ERROR);
      return;
    }
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW_SIZE) {
      this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    if (stream.pending && this.output.pump(stream)) this.localEnd(stream);
  }

  private remoteEnd(stream: Http2ServerStream): void {
    stream.remoteEnded = true;
    stream.onEnd?.();
    if (stream.localEnded) this.closeStream(stream);
  }

  // ---- writing (StreamSink) ------------------------------------------------------------------

  sendHeaders(stream: Http2ServerStream, block: Buffer, endStream: boolean): void {
    if (stream.closed || stream.localEnded || stream.headersSent) return;
    stream.headersSent = true;
    this.output.headerBlock(stream.id, block, endStream);
    if (endStream) this.localEnd(stream);
  }

  sendData(stream: Http2ServerStream, data: Uint8Array): void {
    if (stream.closed || stream.localEnded || stream.pendingTrailers || data.byteLength === 0) return;
    this.output.enqueue(stream, data);
    this.output.pump(stream);
  }

  sendTrailers(stream: Http2ServerStream, block: Buffer): void {
    if (stream.closed || stream.localEnded || stream.pendingTrailers) return;
    stream.pendingTrailers = block;
    if (!stream.pending && this.output.pump(stream)) this.localEnd(stream);
  }

  sendAnswer(stream: Http2ServerStream, headers: Buffer, body: readonly Uint8Array[], trailers: Buffer): void {
    if (stream.closed || stream.localEnded || stream.headersSent) return;
    if (this.output.answer(stream, headers, body, trailers)) {
      stream.headersSent = true;
      this.localEnd(stream);
      return;
    }
    this.sendHeaders(stream, headers, false);
    for (const part of body) this.sendData(stream, part);
    this.sendTrailers(stream, trailers);
  }

  resetStream(stream: Http2ServerStream, code: number): void {
    if (stream.closed) return;
    const unanswered = !stream.localEnded;
    this.output.queue(rstStreamFrame(stream.id, code));
    this.closeStream(stream);
    if (unanswered && code !== ErrorCode.NO_ERROR) this.countReset();
  }

  private resetById(streamId: number, code: number): void {
    const stream = this.streams.get(streamId);
    if (stream) this.resetStream(stream, code);
    else this.output.queue(rstStreamFrame(streamId, code));
  }

  /** Our END_STREAM is queued: the stream closes if the client's side is done (or is not read further). */
  private readonly localEnd = (stream: Http2ServerStream): void => {
    stream.localEnded = true;
    if (stream.remoteEnded) this.closeStream(stream);
    else if (stream.stopAfterAnswer) this.resetStream(stream, ErrorCode.NO_ERROR);
  };

  private closeStream(stream: Http2ServerStream): void {
    if (stream.closed) return;
    stream.closed = true;
    stream.pendingTrailers = undefined;
    this.streams.delete(stream.id);
    this.output.forget(stream);
    const onClose = stream.onClose;
    stream.onData = stream.onEnd = stream.onClose = undefined;
    try {
      onClose?.();
    } catch {
      // an application fault while its stream closes changes nothing for the connection
    }
    this.endIfIdle();
  }

  // ---- connection life -----------------------------------------------------------------------

  private keepalive(): void {
    // A closing connection is not pinged: its own GOAWAY PING is under way, its calls draining.
    if (this.dead || this.closing || this.keepaliveTimeout) return;
    this.keepaliveTimeout = setTimeout(() => this.destroy(), this.opts.keepaliveTimeoutMs);
    this.keepaliveTimeout.unref();
    this.output.queue(pingFrame(KEEPALIVE_PING, false));
  }

  /** After the final GOAWAY (ours or the client's) the connection ends once no stream is open. */
  private endIfIdle(): void {
    if (this.dead || this.streams.size > 0 || !(this.finalGoaway || this.peerGoaway)) return;
    this.finish();
  }

  private connectionError(e: unknown): void {
    if (this.dead) return;
    const error =
      e instanceof ConnectionError ? e : new ConnectionError(ErrorCode.INTERNAL_ERROR, (e as Error)?.message ?? '');
    this.output.queue(goawayFrame(this.lastStreamId, error.code, error.message));
    this.finish();
  }

  /** Writes what is queued, ends the socket (destroyed if it lingers) and closes every stream. */
  private finish(): void {
    this.output.flush();
    this.output.stop();
    this.dead = true;
    this.socket.end();
    setTimeout(() => this.destroy(), LINGER_MS).unref();
    this.closeAllStreams();
  }

  private closeAllStreams(): void {
    for (const stream of [...this.streams.values()]) this.closeStream(stream);
  }

  private onSocketClose(): void {
    if (this.keepaliveTimer === undefined) return; // once
    this.dead = true;
    clearInterval(this.keepaliveTimer);
    clearTimeout(this.keepaliveTimeout);
    this.keepaliveTimer = this.keepaliveTimeout = undefined;
    this.closePingAcked = undefined;
    this.output.stop();
    this.closeAllStreams();
    this.opts.onClose();
  }
}

/** Events in the current one-second window. */
class RateCounter {
  private windowStart = 0;
  private events = 0;

  /** Counts one event; returns the count in its window. */
  count(): number {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.events = 0;
    }
    return ++this.events;
  }
}
