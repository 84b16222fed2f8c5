// A frame-level HTTP/2 client for tests: it writes exactly the frames a test builds (valid or
// not) and records every frame the server sends, header blocks decoded. For what node:http2's
// client would never send (bad prefaces, wrong stream ids, broken HPACK, flow-control abuse).
import net from 'node:net';
import { CLIENT_PREFACE, Flag, FrameType, frame, settingsFrame } from '../../common/service-runtime/http2/frames.js';
import { HpackDecoder } from '../../common/service-runtime/http2/hpack-decoder.js';
import { encodeHeaderBlock } from '../../common/service-runtime/http2/hpack-encoder.js';

export interface ReceivedFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
  /** HEADERS (with its CONTINUATIONs): the decoded fields. */
  headers?: [string, string][];
}

export class RawHttp2Client {
  readonly frames: ReceivedFrame[] = [];
  closed = false;
  private buffered = Buffer.alloc(0);
  private readonly decoder = new HpackDecoder();
  private pendingBlock: { head: ReceivedFrame; parts: Buffer[] } | undefined;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects; unless `preface: false`, sends the client preface and a SETTINGS frame. */
  static async connect(
    port: number,
    opts: { preface?: boolean; settings?: [number, number][] } = {},
  ): Promise<RawHttp2Client> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawHttp2Client(socket);
    if (opts.preface !== false) client.send(CLIENT_PREFACE, settingsFrame(opts.settings ?? []));
    return client;
  }

  send(...buffers: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(buffers));
  }

  /** HEADERS for a gRPC-style POST (fields override the defaults), END_STREAM when `body` is undefined. */
  headersFrame(streamId: number, fields: [string, string][] = [], endStream = false): Buffer {
    const defaults: [string, string][] = [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/test.Service/Method'],
      [':authority', 'localhost'],
      ['content-type', 'application/grpc'],
      ['te', 'trailers'],
    ];
    // A field named in the defaults takes its place (pseudo-headers stay first); others go last.
    const given = new Map(fields);
    const all: [string, string][] = [
      ...defaults.map(([n, v]): [string, string] => [n, given.get(n) ?? v]),
      ...fields.filter(([n]) => !defaults.some(([d]) => d === n)),
    ];
    const flags = Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0);
    return frame(FrameType.HEADERS, flags, streamId, encodeHeaderBlock(all));
  }

  dataFrame(streamId: number, data: Uint8Array, endStream = true): Buffer {
    return frame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId, data);
  }

  /** Waits until `predicate` holds for the frames received so far (or the socket closed, then throws). */
  async waitFor<T>(predicate: (frames: ReceivedFrame[]) => T | undefined | false, timeoutMs = 2000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = predicate(this.frames);
      if (found) return found;
      if (this.closed) throw new Error(`connection closed; frames: ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; frames: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The frames of one type (and stream). */
  ofType(type: number, streamId?: number): ReceivedFrame[] {
    return this.frames.filter((f) => f.type === type && (streamId === undefined || f.streamId === streamId));
  }

  /** Resolves once the server has closed the connection. */
  async untilClosed(timeoutMs = 2000): Promise<void> {
    await this.waitFor(() => false, timeoutMs).catch((e: Error) => {
      if (!this.closed) throw e;
    });
  }

  /** The GOAWAY's error code, once one arrived. */
  goawayCode(): number | undefined {
    const goaway = this.ofType(FrameType.GOAWAY).at(-1);
    return goaway ? goaway.payload.readUInt32BE(4) : undefined;
  }

  close(): void {
    this.socket.destroy();
  }

  private describe(): string {
    return this.frames.map((f) => `${f.type}/${f.streamId}/${f.flags}`).join(' ');
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) break;
      const f: ReceivedFrame = {
        type: this.buffered[3],
        flags: this.buffered[4],
        streamId: this.buffered.readUInt32BE(5) & 0x7fffffff,
        payload: Buffer.from(this.buffered.subarray(9, 9 + length)),
      };
      this.buffered = this.buffered.subarray(9 + length);
      this.onFrame(f);
    }
    this.wake();
  }

  private onFrame(f: ReceivedFrame): void {
    if (f.type === FrameType.HEADERS) {
      this.pendingBlock = { head: f, parts: [f.payload] };
    } else if (f.type === FrameType.CONTINUATION && this.pendingBlock) {
      this.pendingBlock.parts.push(f.payload);
      if (f.flags & Flag.END_HEADERS) this.pendingBlock.head.flags |= Flag.END_HEADERS;
    } else {
      this.frames.push(f);
      return;
    }
    const block = this.pendingBlock;
    if (!(block.head.flags & Flag.END_HEADERS)) return;
    this.pendingBlock = undefined;
    const headers: [string, string][] = [];
    this.decoder.decode(Buffer.concat(block.parts), (name, value) => headers.push([name, value]));
    block.head.headers = headers;
    this.frames.push(block.head);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
