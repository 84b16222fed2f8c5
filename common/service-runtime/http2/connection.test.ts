// Http2ServerConnection on real sockets: a net server on 127.0.0.1 whose sockets are wrapped in the
// connection, with a small application (echo and a few variants chosen by :path), driven by
// RawHttp2Client (frames a well-behaved client would never send) and by node:http2's client
// (nghttp2) for interop. Section numbers in the test names are RFC 9113's.
//
// Ordering, not timing: the server handles frames in order and writes its output in order, so once
// the PING ACK of a PING sent after some frames has arrived (settle()), every frame the server
// wrote in answer to them has arrived too.
import { createHash } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { prng } from '../../../test/support/prng.js';
import { RawHttp2Client, type ReceivedFrame } from '../../../test/support/raw-http2-client.js';
import { type Http2ConnectionOptions, Http2ServerConnection } from './connection.js';
import {
  CLIENT_PREFACE,
  ErrorCode,
  Flag,
  FrameType,
  frame,
  goawayFrame,
  pingFrame,
  rstStreamFrame,
  SETTINGS_ACK,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from './frames.js';
import { encodeHeaderBlock, writeInteger } from './hpack-encoder.js';
import type { Http2ServerStream } from './server-stream.js';

type Field = [string, string];
type Options = Omit<Http2ConnectionOptions, 'onStream' | 'onClose'>;
type App = (stream: Http2ServerStream) => void;

const MAX_31 = 2 ** 31 - 1;

const DEFAULTS: Options = {
  maxConcurrentStreams: 100,
  initialWindowSize: 65_535,
  connectionWindowSize: 65_535,
  maxHeaderListSize: 16_384,
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxResetsPerSecond: 100,
  maxControlFramesPerSecond: 1000,
  maxOutputBytes: 64 * 1024 * 1024,
};

const REQUEST: Field[] = [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', '/echo'],
  [':authority', 'localhost'],
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
];

// ---- the test application ------------------------------------------------------------------

/** n octets of a recognisable pattern. */
function pattern(n: number, seed = 0): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

function responseHeaders(stream: Http2ServerStream): Buffer {
  return encodeHeaderBlock([
    [':status', '200'],
    ['content-type', stream.contentType ?? 'none'],
    ['x-method', stream.method],
    ['x-path', stream.path],
  ]);
}

function trailersFor(length: number): Buffer {
  return encodeHeaderBlock([
    ['grpc-status', '0'],
    ['x-body-length', String(length)],
  ]);
}

function answerWith(stream: Http2ServerStream, body: Buffer): void {
  stream.answer(responseHeaders(stream), [body], trailersFor(body.length));
}

/** The request body, then `done` with it at END_STREAM. */
function collect(stream: Http2ServerStream, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.onData = (chunk) => chunks.push(Buffer.from(chunk));
  stream.onEnd = () => done(Buffer.concat(chunks));
}

/**
 * By :path: /hold (never answered), /size/N (N pattern octets once the request ends), /digest (the
 * SHA-256 of the body), /now/N (an answer of N octets at once), /early/N (stopReading() then an
 * answer of N octets at once), /early-then-stop/N (the answer, then stopReading()); anything else
 * echoes the body.
 */
const defaultApp: App = (stream) => {
  const [, route, arg] = stream.path.split('/');
  switch (route) {
    case 'hold':
      return;
    case 'size':
      stream.onEnd = () => answerWith(stream, pattern(Number(arg)));
      return;
    case 'digest':
      collect(stream, (body) => answerWith(stream, createHash('sha256').update(body).digest()));
      return;
    case 'now':
      answerWith(stream, pattern(Number(arg)));
      return;
    case 'early':
      stream.stopReading();
      answerWith(stream, pattern(Number(arg)));
      return;
    case 'early-then-stop':
      answerWith(stream, pattern(Number(arg)));
      stream.stopReading();
      return;
    default:
      collect(stream, (body) => answerWith(stream, body));
  }
};

// ---- server and client harness ---------------------------------------------------------------

interface TestServer {
  port: number;
  connections: Http2ServerConnection[];
  streams: Http2ServerStream[];
  /** onClose calls. */
  closed: number;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) fn();
});

async function startServer(options: Partial<Options> = {}, app: App = defaultApp): Promise<TestServer> {
  const t: TestServer = { port: 0, connections: [], streams: [], closed: 0 };
  const server = net.createServer((socket) => {
    const connection = new Http2ServerConnection(socket, {
      ...DEFAULTS,
      ...options,
      onStream: (stream) => {
        t.streams.push(stream);
        app(stream);
      },
      onClose: () => {
        t.closed++;
      },
    });
    t.connections.push(connection);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.port = (server.address() as net.AddressInfo).port;
  cleanups.push(() => {
    server.close();
    for (const connection of t.connections) connection.destroy();
  });
  return t;
}

async function connect(
  t: TestServer,
  opts: { preface?: boolean; settings?: [number, number][] } = {},
): Promise<RawHttp2Client> {
  const client = await RawHttp2Client.connect(t.port, opts);
  cleanups.push(() => client.close());
  return client;
}

function withPath(path: string, fields: Field[] = REQUEST): Field[] {
  return fields.map(([n, v]): Field => [n, n === ':path' ? path : v]);
}

/** HEADERS carrying exactly `fields`, in order. */
function headers(streamId: number, fields: Field[] = REQUEST, endStream = false): Buffer {
  return frame(
    FrameType.HEADERS,
    Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0),
    streamId,
    encodeHeaderBlock(fields),
  );
}

function data(streamId: number, body: string | Buffer, endStream = true): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return frame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId, bytes);
}

/** A complete request: HEADERS, then the body in one DATA frame with END_STREAM. */
function request(streamId: number, path = '/echo', body: string | Buffer = ''): Buffer {
  return Buffer.concat([headers(streamId, withPath(path)), data(streamId, body)]);
}

let pingCounter = 0;
const isAckOf = (payload: Buffer) => (f: ReceivedFrame) =>
  f.type === FrameType.PING && (f.flags & Flag.ACK) !== 0 && f.payload.equals(payload);

/**
 * A PING round trip: resolves once its ACK arrived (everything the server wrote in answer to the
 * frames sent before it has arrived too) or the server closed the connection.
 */
async function settle(client: RawHttp2Client): Promise<void> {
  const payload = Buffer.alloc(8);
  payload.write('settle', 0, 'latin1');
  payload.writeUInt16BE(++pingCounter & 0xffff, 6);
  client.send(pingFrame(payload, false));
  await client
    .waitFor((fs) => fs.some(isAckOf(payload)))
    .catch((e: Error) => {
      if (!client.closed) throw e;
    });
}

function goawayOf(client: RawHttp2Client): { lastStreamId: number; code: number } | undefined {
  const f = client.ofType(FrameType.GOAWAY).at(-1);
  return f && { lastStreamId: f.payload.readUInt32BE(0) & MAX_31, code: f.payload.readUInt32BE(4) };
}

/** The server closed the connection with a GOAWAY carrying `code`. */
async function expectConnectionError(client: RawHttp2Client, code: number): Promise<void> {
  await settle(client);
  expect(goawayOf(client)?.code).toBe(code);
  await client.untilClosed();
}

/** Waits (polling) until `predicate` holds: for server-side state that follows a client-visible event. */
async function until(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function resetCode(client: RawHttp2Client, streamId: number): number | undefined {
  return client.ofType(FrameType.RST_STREAM, streamId)[0]?.payload.readUInt32BE(0);
}

interface Answer {
  headers: Field[];
  body: Buffer;
  trailers: Field[];
  frames: ReceivedFrame[];
}

/** The answer on a stream, once it ended (END_STREAM). */
function answerOf(client: RawHttp2Client, streamId: number): Answer | undefined {
  const frames = client.frames.filter((f) => f.streamId === streamId);
  if (!frames.some((f) => (f.type === FrameType.HEADERS || f.type === FrameType.DATA) && f.flags & Flag.END_STREAM)) {
    return undefined;
  }
  const heads = frames.filter((f) => f.type === FrameType.HEADERS);
  return {
    headers: heads[0]?.headers ?? [],
    trailers: heads.length > 1 ? (heads.at(-1)?.headers ?? []) : [],
    body: Buffer.concat(frames.filter((f) => f.type === FrameType.DATA).map((f) => f.payload)),
    frames,
  };
}

function answer(client: RawHttp2Client, streamId: number): Promise<Answer> {
  return client.waitFor(() => answerOf(client, streamId));
}

function field(fields: Field[], name: string): string | undefined {
  return fields.find(([n]) => n === name)?.[1];
}

function dataSizes(client: RawHttp2Client, streamId?: number): number[] {
  return client.ofType(FrameType.DATA, streamId).map((f) => f.payload.length);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function parseSettings(payload: Buffer): Map<number, number> {
  const out = new Map<number, number>();
  for (let at = 0; at + 6 <= payload.length; at += 6) out.set(payload.readUInt16BE(at), payload.readUInt32BE(at + 2));
  return out;
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1). */
function hpackInt(prefixBits: number, first: number, value: number): number[] {
  const out: number[] = [];
  writeInteger(out, first, prefixBits, value);
  return out;
}

/** A raw HPACK string literal. */
function hpackString(text: string): Buffer {
  const octets = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from(hpackInt(7, 0, octets.length)), octets]);
}

const HPACK_METHOD_POST = 0x83; // indexed, static 3
const HPACK_SCHEME_HTTP = 0x86; // indexed, static 6
const HPACK_PATH_ROOT = 0x84; // indexed, static 4
const HPACK_NEWEST = 0xbe; // indexed, dynamic index 62
/** :path (static name 4) as a literal with incremental indexing. */
const indexedPath = (path: string) => Buffer.concat([Buffer.of(0x44), hpackString(path)]);
/** A new-name literal without indexing. */
const plainField = (name: string, value: string) =>
  Buffer.concat([Buffer.of(0x00), hpackString(name), hpackString(value)]);

// ---- tests ------------------------------------------------------------------------------------

describe('Http2ServerConnection: a request and the connection preface', () => {
  it('answers HEADERS, DATA, trailers; opens with its SETTINGS, ACKs the client SETTINGS, widens its window', async () => {
    const t = await startServer({
      maxConcurrentStreams: 7,
      initialWindowSize: 100_000,
      connectionWindowSize: 1_000_000,
      maxHeaderListSize: 8000,
    });
    const client = await connect(t);
    client.send(headers(1), data(1, 'hello'));
    const a = await answer(client, 1);

    const first = client.frames[0];
    expect([first.type, first.flags, first.streamId]).toEqual([FrameType.SETTINGS, 0, 0]);
    const settings = parseSettings(first.payload);
    expect(settings.get(Setting.MAX_CONCURRENT_STREAMS)).toBe(7);
    expect(settings.get(Setting.INITIAL_WINDOW_SIZE)).toBe(100_000);
    expect(settings.get(Setting.MAX_HEADER_LIST_SIZE)).toBe(8000);
    expect(settings.get(Setting.ENABLE_PUSH)).toBe(0);
    const acks = client.ofType(FrameType.SETTINGS).filter((f) => f.flags & Flag.ACK);
    expect(acks.map((f) => f.payload.length)).toEqual([0]);
    const widen = client.ofType(FrameType.WINDOW_UPDATE, 0);
    expect(widen.map((f) => f.payload.readUInt32BE(0))).toEqual([1_000_000 - 65_535]);

    // HEADERS (not ending the stream), DATA, trailers HEADERS with END_STREAM.
    expect(a.frames.map((f) => [f.type, f.flags & Flag.END_STREAM])).toEqual([
      [FrameType.HEADERS, 0],
      [FrameType.DATA, 0],
      [FrameType.HEADERS, Flag.END_STREAM],
    ]);
    expect(a.headers).toEqual([
      [':status', '200'],
      ['content-type', 'application/grpc'],
      ['x-method', 'POST'],
      ['x-path', '/echo'],
    ]);
    expect(a.body.toString()).toBe('hello');
    expect(a.trailers).toEqual([
      ['grpc-status', '0'],
      ['x-body-length', '5'],
    ]);
    expect(t.streams.map((s) => [s.id, s.method, s.path, s.contentType])).toEqual([
      [1, 'POST', '/echo', 'application/grpc'],
    ]);
    expect(t.streams[0].closed).toBe(true);
    expect(t.connections[0].streamCount).toBe(0);
  });

  it('sends no connection WINDOW_UPDATE at start when connectionWindowSize is 65535', async () => {
    const t = await startServer({ connectionWindowSize: 65_535 });
    const client = await connect(t);
    await settle(client);
    expect(client.ofType(FrameType.WINDOW_UPDATE)).toEqual([]);
  });

  it('answers an HTTP/1.1 request line with GOAWAY PROTOCOL_ERROR and closes the socket [3.4]', async () => {
    const t = await startServer();
    const client = await connect(t, { preface: false });
    client.send(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'latin1'));
    await client.untilClosed();
    expect(goawayOf(client)?.code).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(t.streams).toEqual([]);
    await until(() => t.closed === 1);
  });

  it('takes a preface, SETTINGS and a request written one octet (or a few) at a time', async () => {
    const t = await startServer();
    const client = await connect(t, { preface: false });
    client.socket.setNoDelay(true);
    const bytes = Buffer.concat([
      CLIENT_PREFACE,
      settingsFrame([[Setting.MAX_FRAME_SIZE, 20_000]]),
      request(1, '/split', 'abc'),
    ]);
    for (let at = 0; at < bytes.length; ) {
      const n = at < 40 ? 1 : 7; // the first 40 octets one by one, then 7 at a time
      client.send(bytes.subarray(at, at + n));
      at += n;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const a = await answer(client, 1);
    expect(field(a.headers, 'x-path')).toBe('/split');
    expect(a.body.toString()).toBe('abc');
  });

  it('answers a preface not followed by SETTINGS with GOAWAY PROTOCOL_ERROR [3.4]', async () => {
    const t = await startServer();
    const client = await connect(t, { preface: false });
    client.send(CLIENT_PREFACE, pingFrame(Buffer.alloc(8), false));
    await expectConnectionError(client, ErrorCode.PROTOCOL_ERROR);
    expect(client.ofType(FrameType.PING)).toEqual([]);
  });
});

describe('Http2ServerConnection: frames and stream ids', () => {
  it('takes a 16384-octet frame; closes on a larger one with GOAWAY FRAME_SIZE_ERROR [4.2]', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(request(1, '/echo', pattern(16_384)));
    expect((await answer(client, 1)).body).toEqual(pattern(16_384));
    client.send(headers(3), data(3, pattern(16_385)));
    await expectConnectionError(client, ErrorCode.FRAME_SIZE_ERROR);
    expect(answerOf(client, 3)).toBeUndefined();
  });

  it.each<[string, Buffer[]]>([
    ['HEADERS on stream 0 [6.2]', [headers(0, REQUEST, true)]],
    ['DATA on stream 0 [6.1]', [data(0, 'x')]],
    ['RST_STREAM on stream 0 [6.4]', [rstStreamFrame(0, ErrorCode.CANCEL)]],
    ['PRIORITY on stream 0 [6.3]', [frame(FrameType.PRIORITY, 0, 0, Buffer.from([0, 0, 0, 1, 16]))]],
    ['CONTINUATION on stream 0 [6.10]', [frame(FrameType.CONTINUATION, Flag.END_HEADERS, 0)]],
    ['an even stream id [5.1.1]', [headers(2, REQUEST, true)]],
    ['DATA on an idle stream [5.1]', [data(1, 'x')]],
    ['RST_STREAM on an idle stream [6.4]', [rstStreamFrame(1, ErrorCode.CANCEL)]],
    ['WINDOW_UPDATE on an idle stream [5.1]', [windowUpdateFrame(1, 100)]],
    ['GOAWAY on a stream [6.8]', [frame(FrameType.GOAWAY, 0, 1, Buffer.alloc(8))]],
    ['PUSH_PROMISE from a client [8.4]', [frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, Buffer.alloc(4))]],
  ])('closes the connection with GOAWAY PROTOCOL_ERROR on %s', async (_name, frames) => {
    const t = await startServer();
    const client = await connect(t);
    client.send(...frames);
    await expectConnectionError(client, ErrorCode.PROTOCOL_ERROR);
    expect(t.streams).toEqual([]);
  });

  // After stream 5, a HEADERS opening stream 3 (never used) or the even stream 2 is an unexpected
  // stream identifier: a connection error, not a request silently dropped (h2spec 5.1.1/1, 5.1.1/2).
  it.each([
    ['a lower odd id', 3],
    ['a lower even id', 2],
  ])(
    'closes the connection with GOAWAY PROTOCOL_ERROR on a new stream with %s than the last [5.1.1]',
    async (_name, id) => {
      const t = await startServer();
      const client = await connect(t);
      client.send(request(5));
      await answer(client, 5);
      client.send(headers(id, withPath('/late'), true));
      await expectConnectionError(client, ErrorCode.PROTOCOL_ERROR);
      expect(t.streams.map((s) => s.id)).toEqual([5]);
    },
  );
});

describe('Http2ServerConnection: malformed requests [8.2, 8.3]', () => {
  const without = (name: string) => REQUEST.filter(([n]) => n !== name);
  it.each<[string, Field[]]>([
    ['an upper-case field name', [...REQUEST, ['X-Upper', '1']]],
    ['a pseudo-header after a regular field', [...without(':authority'), [':authority', 'localhost']]],
    ['an unknown pseudo-header', [...REQUEST.slice(0, 4), [':foo', 'bar'], ...REQUEST.slice(4)]],
    ['a response pseudo-header', [[':status', '200'], ...REQUEST]],
    ['a repeated :path', [...REQUEST.slice(0, 3), [':path', '/again'], ...REQUEST.slice(3)]],
    ['a repeated :method', [[':method', 'GET'], ...REQUEST]],
    ['no :method', without(':method')],
    ['no :path', without(':path')],
    ['an empty :path', withPath('')],
    ['no :scheme', without(':scheme')],
    ['te: gzip', [...without('te'), ['te', 'gzip']]],
    ['connection: keep-alive', [...REQUEST, ['connection', 'keep-alive']]],
    ['transfer-encoding: chunked', [...REQUEST, ['transfer-encoding', 'chunked']]],
    ['upgrade: h2c', [...REQUEST, ['upgrade', 'h2c']]],
  ])('resets a request with %s PROTOCOL_ERROR, and serves the next one', async (_name, fields) => {
    const t = await startServer();
    const client = await connect(t);
    client.send(headers(1, fields), data(1, 'ignored'), request(3, '/next', 'ok'));
    const next = await answer(client, 3);
    expect(next.body.toString()).toBe('ok');
    expect(resetCode(client, 1)).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(client.frames.filter((f) => f.streamId === 1).map((f) => f.type)).toEqual([FrameType.RST_STREAM]);
    expect(t.streams.map((s) => s.path)).toEqual(['/next']);
    expect(goawayOf(client)).toBeUndefined();
  });

  it('takes te: trailers, no :authority, and regular fields after the pseudo-headers', async () => {
    const t = await startServer();
    const client = await connect(t);
    const fields: Field[] = [...without(':authority'), ['x-custom', 'Mixed Case Value'], ['te', 'trailers']];
    client.send(headers(1, fields), data(1, 'fine'));
    expect((await answer(client, 1)).body.toString()).toBe('fine');
    expect(resetCode(client, 1)).toBeUndefined();
  });

  // §8.2.1: a field name with characters outside lower-case token characters (space, colon, NUL)
  // or a value with NUL, CR or LF, or leading/trailing whitespace, makes the request malformed.
  it('resets requests whose field names or values break the field syntax with PROTOCOL_ERROR [8.2.1]', async () => {
    const t = await startServer();
    const client = await connect(t);
    const bad: Field[] = [
      ['x bad', '1'],
      ['x:bad', '1'],
      ['x-bad\0', '1'],
      ['', 'empty name'],
      ['x-crlf', 'a\r\nx-injected: 1'],
      ['x-nul', 'a\0b'],
      ['x-space', ' padded '],
    ];
    for (const [i, f] of bad.entries()) client.send(headers(1 + 2 * i, [...REQUEST, f], true));
    await settle(client);
    expect(bad.map((f, i) => [f[0], resetCode(client, 1 + 2 * i)])).toEqual(
      bad.map((f) => [f[0], ErrorCode.PROTOCOL_ERROR]),
    );
  });
});

describe('Http2ServerConnection: HPACK and header blocks', () => {
  it.each<[string, Buffer]>([
    ['an indexed field with index 0', Buffer.of(0x80)],
    ['an index past the dynamic table', Buffer.of(HPACK_METHOD_POST, HPACK_NEWEST)],
    ['a string literal past the block end', Buffer.of(0x00, 0x05, 0x61)],
    ['a table size update above 4096', Buffer.of(0x3f, 0xe2, 0x1f)],
  ])('closes the connection with GOAWAY COMPRESSION_ERROR on %s [4.3]', async (_name, block) => {
    const t = await startServer();
    const client = await connect(t);
    client.send(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, block));
    await expectConnectionError(client, ErrorCode.COMPRESSION_ERROR);
  });

  it('keeps its HPACK table in step with the client through refused and malformed requests [4.3]', async () => {
    const t = await startServer({ maxConcurrentStreams: 1 });
    const client = await connect(t);
    // Stream 1 is malformed (upper-case name) but its block still adds (:path, /kept) to the table.
    const bad = Buffer.concat([
      Buffer.of(HPACK_METHOD_POST, HPACK_SCHEME_HTTP),
      indexedPath('/kept'),
      plainField('X-Bad', '1'),
    ]);
    client.send(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, bad));
    // Stream 3 refers to it, and stays open (taking the only stream slot).
    client.send(
      frame(FrameType.HEADERS, Flag.END_HEADERS, 3, Buffer.of(HPACK_METHOD_POST, HPACK_SCHEME_HTTP, HPACK_NEWEST)),
    );
    // Stream 5 is refused (no slot) but its block adds (:path, /second).
    const refused = Buffer.concat([Buffer.of(HPACK_METHOD_POST, HPACK_SCHEME_HTTP), indexedPath('/second')]);
    client.send(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 5, refused));
    client.send(data(3, 'three'));
    await answer(client, 3);
    client.send(
      frame(
        FrameType.HEADERS,
        Flag.END_HEADERS | Flag.END_STREAM,
        7,
        Buffer.of(HPACK_METHOD_POST, HPACK_SCHEME_HTTP, HPACK_NEWEST),
      ),
    );
    const seven = await answer(client, 7);
    expect(resetCode(client, 1)).toBe(ErrorCode.PROTOCOL_ERROR);
    expect(resetCode(client, 5)).toBe(ErrorCode.REFUSED_STREAM);
    expect(field((await answer(client, 3)).headers, 'x-path')).toBe('/kept');
    expect(field(seven.headers, 'x-path')).toBe('/second');
  });

  it('decodes HEADERS + CONTINUATION frames as one request block [6.10]', async () => {
    const t = await startServer();
    const client = await connect(t);
    const block = encodeHeaderBlock(withPath('/continued/over/three/frames'));
    const cut1 = 5;
    const cut2 = 20;
    client.send(
      frame(FrameType.HEADERS, 0, 1, block.subarray(0, cut1)),
      frame(FrameType.CONTINUATION, 0, 1, block.subarray(cut1, cut2)),
      frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(cut2)),
      data(1, 'body'),
    );
    const a = await answer(client, 1);
    expect(field(a.headers, 'x-path')).toBe('/continued/over/three/frames');
    expect(a.body.toString()).toBe('body');
  });

  it('takes END_STREAM on a HEADERS whose block continues in CONTINUATION [6.2]', async () => {
    const t = await startServer();
    const client = await connect(t);
    const block = encodeHeaderBlock(withPath('/size/3'));
    client.send(
      frame(FrameType.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 10)),
      frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(10)),
    );
    expect((await answer(client, 1)).body).toEqual(pattern(3));
  });

  it('takes HEADERS with PADDED and PRIORITY flags, padding and priority fields removed [6.2]', async () => {
    const t = await startServer();
    const client = await connect(t);
    const block = encodeHeaderBlock(withPath('/padded'));
    const payload = Buffer.concat([Buffer.of(6), Buffer.of(0x80, 0, 0, 0, 200), block, Buffer.alloc(6, 0xee)]);
    const flags = Flag.END_HEADERS | Flag.END_STREAM | Flag.PADDED | Flag.PRIORITY;
    client.send(frame(FrameType.HEADERS, flags, 1, payload));
    const a = await answer(client, 1);
    expect(field(a.headers, 'x-path')).toBe('/padded');
    expect(a.body.length).toBe(0);
  });

  it('closes on HEADERS padding longer than the frame with GOAWAY PROTOCOL_ERROR [6.2]', async () => {
    const t = await startServer();
    const client = await connect(t);
    const block = encodeHeaderBlock(REQUEST);
    const payload = Buffer.concat([Buffer.of(block.length + 1), block]);
    client.send(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.PADDED, 1, payload));
    await expectConnectionError(client, ErrorCode.PROTOCOL_ERROR);
  });

  it.each<[string, Buffer]>([
    ['a PING', pingFrame(Buffer.alloc(8), false)],
    ['DATA on the same stream', data(1, 'x')],
    ['a CONTINUATION on another stream', frame(FrameType.CONTINUATION, Flag.END_HEADERS, 3)],
    ['HEADERS on another stream', headers(3, REQUEST, true)],
    ['an unknown frame type', frame(0xa, 0, 0, Buffer.alloc(3))],
  ])('closes on %s inside a header block with GOAWAY PROTOCOL_ERROR [6.10]', async (_name, interloper) => {
    const t = await startServer();
    const client = await connect(t);
    const block = encodeHeaderBlock(REQUEST);
    client.send(frame(FrameType.HEADERS, 0, 1, block.subarray(0, 8)), interloper);
    await expectConnectionError(client, ErrorCode.PROTOCOL_ERROR);
    expect(t.streams).toEqual([]);
  });

  it.each<[string, Buffer[]]>([
    ['without HEADERS', [frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, encodeHeaderBlock(REQUEST))]],
    ['after a complete block', [headers(1), frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, Buffer.of(0x83))]],
  ])('closes on a CONTINUATION %s with GOAWAY PROTOCOL_ERROR [6.10]', async (_name, frames) => {
    const t = await startServer();
    const client = await connect(t);
    client.send(...frames);
    await expectConnectionError(client, ErrorCode.PROTOCOL_ERROR);
  });

  it('closes on a header block over maxHeaderListSize with GOAWAY ENHANCE_YOUR_CALM [10.5.1]', async () => {
    const t = await startServer({ maxHeaderListSize: 1024 });
    const client = await connect(t);
    const block = encodeHeaderBlock([...REQUEST, ['x-big', 'v'.repeat(1200)]]);
    client.send(
      frame(FrameType.HEADERS, 0, 1, block.subarray(0, 600)),
      frame(FrameType.CONTINUATION, 0, 1, block.subarray(600, 1200)),
      frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(1200)),
    );
    await expectConnectionError(client, ErrorCode.ENHANCE_YOUR_CALM);
    expect(t.streams).toEqual([]);
  });

  it('resets a request whose decoded header list exceeds maxHeaderListSize, and serves the next', async () => {
    const t = await startServer({ maxHeaderListSize: 4096 });
    const client = await connect(t);
    // Stream 1 puts a 3000-octet field in the table; stream 3 refers to it twice in a 5-octet block.
    const big = Buffer.concat([
      Buffer.of(HPACK_METHOD_POST, HPACK_SCHEME_HTTP, HPACK_PATH_ROOT, 0x40),
      hpackString('x-big'),
      hpackString('b'.repeat(3000)),
    ]);
    client.send(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, big));
    await answer(client, 1);
    const amplified = Buffer.of(HPACK_METHOD_POST, HPACK_SCHEME_HTTP, HPACK_PATH_ROOT, HPACK_NEWEST, HPACK_NEWEST);
    client.send(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, amplified), request(5, '/after'));
    await answer(client, 5);
    expect(resetCode(client, 3)).toBeDefined();
    expect(t.streams.map((s) => s.id)).toEqual([1, 5]);
  });

  // §10.5 (and the 2024 "CONTINUATION flood"): empty CONTINUATION frames add nothing to the block's
  // size, so a limit on octets alone lets a client keep one header block open without end.
  it('does not take an endless run of empty CONTINUATION frames [10.5]', async () => {
    const t = await startServer({ maxHeaderListSize: 1024 });
    const client = await connect(t);
    const block = encodeHeaderBlock(withPath('/flooded'));
    const flood = Buffer.concat(Array.from({ length: 20_000 }, () => frame(FrameType.CONTINUATION, 0, 1)));
    client.send(
      frame(FrameType.HEADERS, Flag.END_STREAM, 1, block.subarray(0, 10)),
      flood,
      frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(10)),
    );
    await client.waitFor(() => client.closed || answerOf(client, 1));
    expect(answerOf(client, 1)).toBeUndefined();
    expect([ErrorCode.ENHANCE_YOUR_CALM, ErrorCode.PROTOCOL_ERROR]).toContain(goawayOf(client)?.code);
  });
});

describe('Http2ServerConnection: DATA', () => {
  it('removes DATA padding from the body the application sees [6.1]', async () => {
    const t = await startServer();
    const client = await connect(t);
    const padded = (bytes: string, pad: number, end: boolean) =>
      frame(
        FrameType.DATA,
        Flag.PADDED | (end ? Flag.END_STREAM : 0),
        1,
        Buffer.concat([Buffer.of(pad), Buffer.from(bytes), Buffer.alloc(pad, 0xaa)]),
      );
    client.send(headers(1), padded('abc', 4, false), padded('', 9, false), padded('def', 0, true));
    expect((await answer(client, 1)).body.toString()).toBe('abcdef');
  });

  it.each([
    ['equal to', 5],
    ['longer than', 200],
  ])('closes on a DATA pad length %s the frame payload with GOAWAY PROTOCOL_ERROR [6.1]', async (_name, pad) => {
    const t = await startServer();
    const client = await connect(t);
    client.send(headers(1), frame(FrameType.DATA, Flag.PADDED, 1, Buffer.of(pad, 1, 2, 3, 4)));
    await expectConnectionError(client, ErrorCode.PROTOCOL_ERROR);
  });

  it('resets a stream that sends DATA after END_STREAM with STREAM_CLOSED [5.1]', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(headers(1, withPath('/hold'), true), data(1, 'late'), request(3, '/echo', 'next'));
    await answer(client, 3);
    expect(resetCode(client, 1)).toBe(ErrorCode.STREAM_CLOSED);
  });
});

describe('Http2ServerConnection: flow control when sending [6.9]', () => {
  it('sends no more DATA than the client stream window, the rest after WINDOW_UPDATE or SETTINGS', async () => {
    const t = await startServer();
    const client = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 10]] });
    client.send(headers(1, withPath('/size/35'), true));
    await client.waitFor(() => dataSizes(client, 1).length > 0);
    await settle(client);
    expect(dataSizes(client, 1)).toEqual([10]);
    expect(answerOf(client, 1)).toBeUndefined(); // no trailers before all data

    client.send(windowUpdateFrame(1, 10));
    await settle(client);
    expect(dataSizes(client, 1)).toEqual([10, 10]);
    client.send(windowUpdateFrame(1, 5));
    await settle(client);
    expect(dataSizes(client, 1)).toEqual([10, 10, 5]);
    expect(answerOf(client, 1)).toBeUndefined();

    // A larger SETTINGS_INITIAL_WINDOW_SIZE opens the open stream's window by the difference [6.9.2].
    client.send(settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 1000]]));
    const a = await answer(client, 1);
    expect(dataSizes(client, 1)).toEqual([10, 10, 5, 10]);
    expect(a.body).toEqual(pattern(35));
    expect(a.frames.at(-1)?.type).toBe(FrameType.HEADERS); // the trailers come after all data
    expect(field(a.trailers, 'x-body-length')).toBe('35');
    expect(client.ofType(FrameType.SETTINGS).filter((f) => f.flags & Flag.ACK)).toHaveLength(2);
  });

  it('takes a lowered SETTINGS_INITIAL_WINDOW_SIZE into account, sending nothing while a window is negative [6.9.2]', async () => {
    const t = await startServer();
    const client = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 10]] });
    client.send(headers(1, withPath('/size/30'), true));
    await client.waitFor(() => dataSizes(client, 1).length > 0);
    // The window was 10, all used: 0 now makes it -10, and a WINDOW_UPDATE of 5 leaves it at -5.
    client.send(settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 0]]), windowUpdateFrame(1, 5));
    await settle(client);
    expect(dataSizes(client, 1)).toEqual([10]);
    client.send(windowUpdateFrame(1, 8)); // +3
    await settle(client);
    expect(dataSizes(client, 1)).toEqual([10, 3]);
    client.send(settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 100]])); // +100
    const a = await answer(client, 1);
    expect(dataSizes(client, 1)).toEqual([10, 3, 17]);
    expect(a.body).toEqual(pattern(30));
  });

  it('splits a body larger than the client SETTINGS_MAX_FRAME_SIZE into frames of at most that size [4.2]', async () => {
    const t = await startServer();
    const client = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 1_000_000]] });
    client.send(headers(1, withPath('/size/40000'), true));
    const a = await answer(client, 1);
    expect(a.body).toEqual(pattern(40_000));
    expect(Math.max(...dataSizes(client, 1))).toBeLessThanOrEqual(16_384);
    expect(sum(dataSizes(client, 1))).toBe(40_000);

    // A client that takes 20000-octet frames gets them.
    const wide = await connect(t, {
      settings: [
        [Setting.INITIAL_WINDOW_SIZE, 1_000_000],
        [Setting.MAX_FRAME_SIZE, 20_000],
      ],
    });
    wide.send(headers(1, withPath('/size/40000'), true));
    expect((await answer(wide, 1)).body).toEqual(pattern(40_000));
    expect(dataSizes(wide, 1)).toEqual([20_000, 20_000]);
  });

  it('splits response headers larger than SETTINGS_MAX_FRAME_SIZE into HEADERS + CONTINUATION [6.10]', async () => {
    const big = 'h'.repeat(20_000);
    const t = await startServer({}, (stream) => {
      stream.onEnd = () =>
        stream.answer(
          encodeHeaderBlock([
            [':status', '200'],
            ['x-big', big],
          ]),
          [Buffer.from('x')],
          trailersFor(1),
        );
    });
    const client = await connect(t);
    client.send(headers(1, REQUEST, true));
    const a = await answer(client, 1);
    expect(field(a.headers, 'x-big')).toBe(big);
    expect(a.frames[0].payload.length).toBeLessThanOrEqual(16_384); // the HEADERS part of the block
    expect(a.body.toString()).toBe('x');
  });

  it('shares the 65535-octet connection window between streams until a connection WINDOW_UPDATE [6.9.1]', async () => {
    const t = await startServer();
    const client = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 1_000_000]] });
    client.send(headers(1, withPath('/size/50000'), true), headers(3, withPath('/size/50000'), true));
    await client.waitFor(() => sum(dataSizes(client)) >= 65_535);
    await settle(client);
    expect(sum(dataSizes(client))).toBe(65_535);
    expect(answerOf(client, 3)).toBeUndefined();

    client.send(windowUpdateFrame(0, 10_000));
    await settle(client);
    expect(sum(dataSizes(client))).toBe(75_535);

    client.send(windowUpdateFrame(0, 100_000));
    const [one, three] = [await answer(client, 1), await answer(client, 3)];
    expect(one.body).toEqual(pattern(50_000));
    expect(three.body).toEqual(pattern(50_000));
    expect(sum(dataSizes(client))).toBe(100_000);
  });
});

describe('Http2ServerConnection: flow control when receiving [6.9]', () => {
  it('resets a stream whose DATA overruns initialWindowSize with FLOW_CONTROL_ERROR, and serves the next', async () => {
    const t = await startServer({ initialWindowSize: 1000 });
    const client = await connect(t);
    await client.waitFor((fs) => fs.some((f) => f.type === FrameType.SETTINGS));
    client.send(SETTINGS_ACK); // the client has taken the server's 1000-octet window
    client.send(headers(1), data(1, pattern(1001), false), request(3, '/echo', pattern(900)));
    expect((await answer(client, 3)).body).toEqual(pattern(900));
    expect(resetCode(client, 1)).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(goawayOf(client)).toBeUndefined();
  });

  // §6.9.3: a receiver that lowers the stream window below 65535 "MUST be prepared to receive data
  // that exceeds this window size", since the sender may send before it has seen the SETTINGS.
  it('takes up to 65535 octets on a stream sent before the client had its smaller SETTINGS [6.9.3]', async () => {
    const t = await startServer({ initialWindowSize: 1000 });
    const client = await connect(t, { preface: false });
    client.send(CLIENT_PREFACE, settingsFrame([]), headers(1), data(1, pattern(5000)));
    await settle(client);
    expect(resetCode(client, 1)).toBeUndefined();
    expect(answerOf(client, 1)?.body).toEqual(pattern(5000));
  });

  // The client sends 5 × 16384 octets (each stream within its own 65535 window) before it has read
  // a single frame: 81920 octets against a 65535-octet connection window.
  it('closes with GOAWAY FLOW_CONTROL_ERROR when the client overruns the connection window [6.9.1]', async () => {
    const t = await startServer({ connectionWindowSize: 65_535 });
    const client = await connect(t, { preface: false });
    const streams = [1, 3, 5, 7, 9];
    client.send(
      CLIENT_PREFACE,
      settingsFrame([]),
      ...streams.flatMap((id) => [headers(id, withPath('/hold')), data(id, pattern(16_384), false)]),
    );
    await settle(client);
    expect(goawayOf(client)?.code).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('opens its stream and connection windows as data comes, so a body many windows long arrives whole', async () => {
    const t = await startServer({ initialWindowSize: 16_384, connectionWindowSize: 65_535 });
    const client = await connect(t);
    const body = pattern(300_000, 3);
    client.send(headers(1, withPath('/digest')));
    // A client that keeps to the windows it was given: it waits for WINDOW_UPDATEs.
    let streamWindow = 16_384;
    let connWindow = 65_535;
    let seen = 0;
    let sent = 0;
    while (sent < body.length) {
      for (; seen < client.frames.length; seen++) {
        const f = client.frames[seen];
        if (f.type !== FrameType.WINDOW_UPDATE) continue;
        if (f.streamId === 0) connWindow += f.payload.readUInt32BE(0);
        else if (f.streamId === 1) streamWindow += f.payload.readUInt32BE(0);
      }
      const n = Math.min(streamWindow, connWindow, 16_384, body.length - sent);
      if (n <= 0) {
        const count = client.frames.length;
        await client.waitFor((fs) => fs.length > count);
        continue;
      }
      client.send(data(1, body.subarray(sent, sent + n), sent + n === body.length));
      sent += n;
      streamWindow -= n;
      connWindow -= n;
    }
    const a = await answer(client, 1);
    expect(a.body).toEqual(createHash('sha256').update(body).digest());
    expect(client.ofType(FrameType.WINDOW_UPDATE, 1).length).toBeGreaterThan(0);
    expect(client.ofType(FrameType.WINDOW_UPDATE, 0).length).toBeGreaterThan(0);
    expect(client.ofType(FrameType.RST_STREAM)).toEqual([]);
  });

  it('resets a stream on a WINDOW_UPDATE of 0 with PROTOCOL_ERROR, and serves the next [6.9]', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(headers(1, withPath('/hold')), windowUpdateFrame(1, 0), request(3, '/echo', 'next'));
    expect((await answer(client, 3)).body.toString()).toBe('next');
    expect(resetCode(client, 1)).toBe(ErrorCode.PROTOCOL_ERROR);
  });

  it('closes on a connection WINDOW_UPDATE of 0 with GOAWAY PROTOCOL_ERROR [6.9]', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(windowUpdateFrame(0, 0));
    await expectConnectionError(client, ErrorCode.PROTOCOL_ERROR);
  });

  it('resets a stream whose send window would pass 2^31-1 with FLOW_CONTROL_ERROR [6.9.1]', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(headers(1, withPath('/hold')), windowUpdateFrame(1, MAX_31), request(3, '/echo', 'next'));
    await answer(client, 3);
    expect(resetCode(client, 1)).toBe(ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('closes when the connection send window would pass 2^31-1 with GOAWAY FLOW_CONTROL_ERROR [6.9.1]', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(windowUpdateFrame(0, MAX_31));
    await expectConnectionError(client, ErrorCode.FLOW_CONTROL_ERROR);
  });

  it('closes when a SETTINGS_INITIAL_WINDOW_SIZE change makes a stream window pass 2^31-1 [6.9.2]', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(headers(1, withPath('/hold')), windowUpdateFrame(1, MAX_31 - 65_535));
    await settle(client);
    expect(resetCode(client, 1)).toBeUndefined();
    client.send(settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 65_536]]));
    await expectConnectionError(client, ErrorCode.FLOW_CONTROL_ERROR);
  });
});

describe('Http2ServerConnection: PING and SETTINGS [6.5, 6.7]', () => {
  it('answers a PING with a PING ACK of the same 8 octets, and a PING ACK with nothing', async () => {
    const t = await startServer();
    const client = await connect(t);
    const opaque = Buffer.from('01234567');
    client.send(pingFrame(opaque, false), pingFrame(Buffer.from('unasked!'), true));
    await settle(client);
    const acks = client.ofType(FrameType.PING).filter((f) => f.flags & Flag.ACK);
    expect(acks[0].payload).toEqual(opaque);
    expect(acks.some((f) => f.payload.toString() === 'unasked!')).toBe(false);
  });

  it('ACKs SETTINGS with unknown identifiers and the largest legal values', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(
      settingsFrame([
        [0xff, 12345],
        [Setting.MAX_FRAME_SIZE, 2 ** 24 - 1],
        [Setting.INITIAL_WINDOW_SIZE, MAX_31],
        [Setting.ENABLE_PUSH, 1],
        [Setting.HEADER_TABLE_SIZE, 0],
      ]),
      request(1, '/echo', 'still'),
    );
    expect((await answer(client, 1)).body.toString()).toBe('still');
    expect(client.ofType(FrameType.SETTINGS).filter((f) => f.flags & Flag.ACK)).toHaveLength(2);
  });

  it.each<[string, Buffer, number]>([
    ['a PING of 7 octets', frame(FrameType.PING, 0, 0, Buffer.alloc(7)), ErrorCode.FRAME_SIZE_ERROR],
    ['a PING on a stream', frame(FrameType.PING, 0, 1, Buffer.alloc(8)), ErrorCode.PROTOCOL_ERROR],
    ['a SETTINGS of 7 octets', frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(7)), ErrorCode.FRAME_SIZE_ERROR],
    [
      'a SETTINGS ACK with a payload',
      frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(6)),
      ErrorCode.FRAME_SIZE_ERROR,
    ],
    ['a SETTINGS on a stream', frame(FrameType.SETTINGS, 0, 1), ErrorCode.PROTOCOL_ERROR],
    ['SETTINGS_ENABLE_PUSH 2', settingsFrame([[Setting.ENABLE_PUSH, 2]]), ErrorCode.PROTOCOL_ERROR],
    ['SETTINGS_MAX_FRAME_SIZE 16383', settingsFrame([[Setting.MAX_FRAME_SIZE, 16_383]]), ErrorCode.PROTOCOL_ERROR],
    ['SETTINGS_MAX_FRAME_SIZE 2^24', settingsFrame([[Setting.MAX_FRAME_SIZE, 2 ** 24]]), ErrorCode.PROTOCOL_ERROR],
    [
      'SETTINGS_INITIAL_WINDOW_SIZE 2^31',
      settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 2 ** 31]]),
      ErrorCode.FLOW_CONTROL_ERROR,
    ],
    ['a WINDOW_UPDATE of 3 octets', frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.alloc(3)), ErrorCode.FRAME_SIZE_ERROR],
    ['a RST_STREAM of 5 octets', frame(FrameType.RST_STREAM, 0, 1, Buffer.alloc(5)), ErrorCode.FRAME_SIZE_ERROR],
    ['a GOAWAY of 7 octets', frame(FrameType.GOAWAY, 0, 0, Buffer.alloc(7)), ErrorCode.FRAME_SIZE_ERROR],
  ])('closes on %s with the matching GOAWAY', async (_name, bad, code) => {
    const t = await startServer();
    const client = await connect(t);
    client.send(bad);
    await expectConnectionError(client, code);
  });
});

describe('Http2ServerConnection: stream limits and resets', () => {
  it('refuses a stream beyond maxConcurrentStreams with REFUSED_STREAM, and takes one when a slot is free [5.1.2]', async () => {
    const t = await startServer({ maxConcurrentStreams: 2 });
    const client = await connect(t);
    client.send(headers(1), headers(3), headers(5), data(5, 'refused'));
    await settle(client);
    expect(resetCode(client, 5)).toBe(ErrorCode.REFUSED_STREAM);
    expect([resetCode(client, 1), resetCode(client, 3)]).toEqual([undefined, undefined]);
    expect(t.streams.map((s) => s.id)).toEqual([1, 3]);
    expect(goawayOf(client)).toBeUndefined();

    client.send(data(1, 'one'));
    expect((await answer(client, 1)).body.toString()).toBe('one');
    client.send(request(7, '/echo', 'seven'));
    expect((await answer(client, 7)).body.toString()).toBe('seven');
    expect(t.streams.map((s) => s.id)).toEqual([1, 3, 7]);
  });

  it('closes with GOAWAY ENHANCE_YOUR_CALM past maxResetsPerSecond client resets of unanswered streams', async () => {
    const t = await startServer({ maxResetsPerSecond: 5 });
    const client = await connect(t);
    const opened = (ids: number[]) =>
      ids.flatMap((id) => [headers(id, withPath('/hold')), rstStreamFrame(id, ErrorCode.CANCEL)]);
    client.send(...opened([1, 3, 5, 7, 9]));
    await settle(client);
    expect(goawayOf(client)).toBeUndefined(); // 5 are allowed
    client.send(...opened([11]));
    await expectConnectionError(client, ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('does not count resets of streams already answered', async () => {
    const t = await startServer({ maxResetsPerSecond: 2 });
    const client = await connect(t);
    const ids = [1, 3, 5, 7, 9, 11];
    // Answered at once (END_STREAM sent) while the client has not ended its request, then reset.
    client.send(...ids.flatMap((id) => [headers(id, withPath('/now/4')), rstStreamFrame(id, ErrorCode.CANCEL)]));
    await settle(client);
    expect(goawayOf(client)).toBeUndefined();
    expect(ids.map((id) => answerOf(client, id)?.body.length)).toEqual(ids.map(() => 4));
  });

  // "MadeYouReset" (CVE-2025-8671): the client makes the server reset its streams (here with a
  // WINDOW_UPDATE of 0) after the application took them; each such stream frees its slot while the
  // application's work goes on, just as with client resets [10.5].
  it('counts streams the client provokes the server into resetting against maxResetsPerSecond [10.5]', async () => {
    const t = await startServer({ maxResetsPerSecond: 5 });
    const client = await connect(t);
    const ids = [1, 3, 5, 7, 9, 11, 13, 15];
    client.send(...ids.flatMap((id) => [headers(id, withPath('/hold'), true), windowUpdateFrame(id, 0)]));
    await settle(client);
    expect(goawayOf(client)?.code).toBe(ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('closes a stream on a client RST_STREAM; an answer after that writes nothing [6.4]', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(headers(1, withPath('/hold')));
    await settle(client);
    const stream = t.streams[0];
    let closes = 0;
    stream.onClose = () => closes++;
    client.send(rstStreamFrame(1, ErrorCode.CANCEL));
    await settle(client);
    expect(closes).toBe(1);
    expect(stream.closed).toBe(true);
    expect(t.connections[0].streamCount).toBe(0);

    stream.answer(responseHeaders(stream), [Buffer.from('late')], trailersFor(4));
    stream.respond(responseHeaders(stream));
    stream.write(Buffer.from('late'));
    stream.end(trailersFor(4));
    stream.reset(ErrorCode.CANCEL);
    client.send(request(3, '/echo', 'next'));
    await answer(client, 3);
    expect(client.frames.filter((f) => f.streamId === 1)).toEqual([]);
    expect(closes).toBe(1);
  });
});

describe('Http2ServerConnection: closing', () => {
  it('closes gracefully: GOAWAY 2^31-1 and a PING, then a final GOAWAY; in-flight streams finish [6.8]', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(headers(1));
    await settle(client);
    t.connections[0].close(10_000);

    const ping = await client.waitFor((fs) => fs.find((f) => f.type === FrameType.PING && !(f.flags & Flag.ACK)));
    const goaways = () => client.ofType(FrameType.GOAWAY);
    expect(goaways()).toHaveLength(1);
    expect(goawayOf(client)).toEqual({ lastStreamId: MAX_31, code: ErrorCode.NO_ERROR });
    expect(client.frames.indexOf(goaways()[0])).toBeLessThan(client.frames.indexOf(ping));

    // Stream 3 was sent before the client saw the final GOAWAY: it is still taken.
    client.send(headers(3), pingFrame(ping.payload, true));
    await client.waitFor(() => goaways().length === 2);
    expect(goawayOf(client)).toEqual({ lastStreamId: 3, code: ErrorCode.NO_ERROR });

    // Stream 5, after the final GOAWAY, is ignored.
    client.send(headers(5, REQUEST, true));
    await settle(client);
    expect(client.frames.filter((f) => f.streamId === 5)).toEqual([]);
    expect(t.streams.map((s) => s.id)).toEqual([1, 3]);
    expect(client.closed).toBe(false);

    client.send(data(1, 'one'), data(3, 'three'));
    expect((await answer(client, 1)).body.toString()).toBe('one');
    expect((await answer(client, 3)).body.toString()).toBe('three');
    await client.untilClosed();
    await until(() => t.closed === 1);
    expect(t.connections[0].isClosed).toBe(true);
  });

  it('sends the final GOAWAY after graceMs when the PING is never acknowledged, then closes', async () => {
    const t = await startServer();
    const client = await connect(t);
    await settle(client);
    t.connections[0].close(30);
    await client.untilClosed();
    expect(client.ofType(FrameType.GOAWAY).map((f) => f.payload.readUInt32BE(0))).toEqual([MAX_31, 0]);
    await until(() => t.closed === 1);
  });

  it('closes once its open streams are done after a client GOAWAY [6.8]', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(headers(1), goawayFrame(1, ErrorCode.NO_ERROR));
    await settle(client);
    expect(client.closed).toBe(false);
    client.send(data(1, 'last'));
    expect((await answer(client, 1)).body.toString()).toBe('last');
    await client.untilClosed();
    await until(() => t.closed === 1);
  });

  it('closes at once on a client GOAWAY when no stream is open', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(goawayFrame(0, ErrorCode.NO_ERROR));
    await client.untilClosed();
    await until(() => t.closed === 1);
  });
});

describe('Http2ServerConnection: stopReading() after an early answer [8.1]', () => {
  it('resets with NO_ERROR once the whole answer is out, the client not having ended its request', async () => {
    const t = await startServer();
    const client = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 10]] });
    client.send(headers(1, withPath('/early/30')), data(1, 'part', false));
    await settle(client);
    expect(dataSizes(client, 1)).toEqual([10]);
    expect(resetCode(client, 1)).toBeUndefined(); // not before the answer is out

    client.send(windowUpdateFrame(1, 100));
    await settle(client);
    const frames = client.frames.filter((f) => f.streamId === 1);
    expect(frames.map((f) => f.type)).toEqual([
      FrameType.HEADERS,
      FrameType.DATA,
      FrameType.DATA,
      FrameType.HEADERS,
      FrameType.RST_STREAM,
    ]);
    expect(resetCode(client, 1)).toBe(ErrorCode.NO_ERROR);
    expect(answerOf(client, 1)?.body).toEqual(pattern(30));

    // The rest of the request, already on its way, is dropped without error.
    client.send(data(1, 'rest'), request(3, '/echo', 'next'));
    expect((await answer(client, 3)).body.toString()).toBe('next');
    expect(goawayOf(client)).toBeUndefined();
  });

  it('resets with NO_ERROR right after an answer sent before stopReading()', async () => {
    const t = await startServer();
    const client = await connect(t);
    client.send(headers(1, withPath('/early-then-stop/3')));
    await settle(client);
    expect(client.frames.filter((f) => f.streamId === 1).map((f) => f.type)).toEqual([
      FrameType.HEADERS,
      FrameType.DATA,
      FrameType.HEADERS,
      FrameType.RST_STREAM,
    ]);
    expect(resetCode(client, 1)).toBe(ErrorCode.NO_ERROR);
    expect(t.streams[0].closed).toBe(true);
  });

  // A request whose HEADERS carried END_STREAM is complete: after the answer the stream is closed,
  // and nothing but PRIORITY may be sent on a closed stream [5.1].
  it.each(['/early/3', '/early-then-stop/3'])(
    'sends no RST_STREAM for %s when the request ended with its HEADERS',
    async (path) => {
      const t = await startServer();
      const client = await connect(t);
      client.send(headers(1, withPath(path), true));
      await settle(client);
      expect(answerOf(client, 1)?.body).toEqual(pattern(3));
      expect(client.ofType(FrameType.RST_STREAM, 1)).toEqual([]);
    },
  );

  it('sends no RST_STREAM when the request ended with a DATA frame', async () => {
    const t = await startServer({}, (stream) => {
      stream.onEnd = () => {
        answerWith(stream, Buffer.from('ok'));
        stream.stopReading();
      };
    });
    const client = await connect(t);
    client.send(request(1, '/x', 'body'));
    await settle(client);
    expect(answerOf(client, 1)?.body.toString()).toBe('ok');
    expect(client.ofType(FrameType.RST_STREAM)).toEqual([]);
  });
});

describe('Http2ServerConnection: keepalive', () => {
  it('drops a client that never acknowledges its PINGs', async () => {
    const t = await startServer({ keepaliveTimeMs: 20, keepaliveTimeoutMs: 20 });
    const client = await connect(t);
    await client.untilClosed(3000);
    expect(client.ofType(FrameType.PING).filter((f) => !(f.flags & Flag.ACK)).length).toBeGreaterThan(0);
    await until(() => t.closed === 1);
    expect(t.connections[0].isClosed).toBe(true);
  });

  it('keeps a client that acknowledges them', async () => {
    const t = await startServer({ keepaliveTimeMs: 15, keepaliveTimeoutMs: 1000 });
    const client = await connect(t);
    let acked = 0;
    client.socket.on('data', () => {
      const pings = client.ofType(FrameType.PING).filter((f) => !(f.flags & Flag.ACK));
      for (; acked < pings.length; acked++) client.send(pingFrame(pings[acked].payload, true));
    });
    await client.waitFor(() => acked >= 6, 3000);
    client.send(request(1, '/echo', 'alive'));
    expect((await answer(client, 1)).body.toString()).toBe('alive');
    expect(client.closed).toBe(false);
    expect(t.closed).toBe(0);
  });
});

describe('Http2ServerConnection: application faults', () => {
  it('resets only the stream whose onStream, onData or onEnd throws, with INTERNAL_ERROR', async () => {
    const t = await startServer({}, (stream) => {
      const boom = () => {
        throw new Error('application fault');
      };
      if (stream.path === '/throw/stream') boom();
      else if (stream.path === '/throw/data') stream.onData = boom;
      else if (stream.path === '/throw/end') stream.onEnd = boom;
      else defaultApp(stream);
    });
    const client = await connect(t);
    client.send(
      headers(1, withPath('/throw/stream'), true),
      request(3, '/throw/data', 'x'),
      request(5, '/throw/end', 'x'),
      headers(7, withPath('/throw/end'), true),
      request(9, '/throw/stream', 'x'),
      request(11, '/echo', 'fine'),
    );
    expect((await answer(client, 11)).body.toString()).toBe('fine');
    expect([1, 3, 5, 7, 9].map((id) => resetCode(client, id))).toEqual(Array(5).fill(ErrorCode.INTERNAL_ERROR));
    expect(goawayOf(client)).toBeUndefined();
    expect(t.connections[0].streamCount).toBe(0);
  });
});

// ---- fuzz ----------------------------------------------------------------------------------

/** A seeded generator for the fuzz, with the draws it needs. */
class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed * 2654435761);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

function fuzzBlock(r: Rng): Buffer {
  switch (r.int(6)) {
    case 0: {
      // A request, perhaps with a field dropped, repeated, upper-cased or moved.
      const fields = REQUEST.map(([n, v]): Field => [n, v]);
      if (r.chance(0.3)) fields.splice(r.int(fields.length), 1);
      if (r.chance(0.2))
        fields.push(
          r.pick<Field>([
            [':path', '/again'],
            ['X-Up', '1'],
            ['te', 'gzip'],
            ['connection', 'x'],
          ]),
        );
      if (r.chance(0.2)) fields.reverse();
      return encodeHeaderBlock(fields);
    }
    case 1: {
      const block = encodeHeaderBlock(REQUEST);
      return block.subarray(0, r.int(block.length));
    }
    case 2: {
      const block = Buffer.from(encodeHeaderBlock(withPath(`/p${r.int(100)}`)));
      block[r.int(block.length)] = r.int(256);
      return block;
    }
    case 3:
      // Table updates and references into the dynamic table (some past its end).
      return Buffer.concat([
        r.chance(0.3) ? Buffer.of(0x20 | r.int(32)) : Buffer.alloc(0),
        Buffer.of(HPACK_METHOD_POST, HPACK_SCHEME_HTTP),
        indexedPath(`/t${r.int(10)}`),
        Buffer.of(0x40),
        hpackString('x-k'),
        hpackString('v'.repeat(r.int(120))),
        Buffer.of(0x80 | (62 + r.int(5))),
      ]);
    case 4:
      return Buffer.from(
        r.pick(['\x82\x86\x84', '\xff\xff\xff\xff\xff\xff\xff\xff', '\x00\x81\xff\x00', '\x3f\xe1\x1f']),
        'latin1',
      );
    default:
      return r.bytes(r.int(40));
  }
}

function fuzzPayload(r: Rng, type: number, flags: number): Buffer {
  const wrongSize = () => r.bytes(r.int(12));
  switch (type) {
    case FrameType.DATA:
    case FrameType.HEADERS: {
      const body = type === FrameType.DATA ? r.bytes(r.chance(0.2) ? r.int(3000) : r.int(40)) : fuzzBlock(r);
      if (!r.chance(0.8)) return r.chance(0.5) ? body : wrongSize();
      const pad = flags & Flag.PADDED ? r.int(8) : -1;
      const priority = type === FrameType.HEADERS && flags & Flag.PRIORITY ? r.bytes(5) : Buffer.alloc(0);
      return Buffer.concat([
        pad >= 0 ? Buffer.of(pad) : Buffer.alloc(0),
        priority,
        body,
        Buffer.alloc(Math.max(pad, 0)),
      ]);
    }
    case FrameType.CONTINUATION:
      return fuzzBlock(r);
    case FrameType.PRIORITY:
      return r.chance(0.8) ? r.bytes(5) : wrongSize();
    case FrameType.RST_STREAM: {
      if (r.chance(0.2)) return wrongSize();
      const out = Buffer.alloc(4);
      out.writeUInt32BE(r.int(16));
      return out;
    }
    case FrameType.SETTINGS: {
      if (flags & Flag.ACK) return r.chance(0.8) ? Buffer.alloc(0) : wrongSize();
      if (r.chance(0.15)) return wrongSize();
      const values = [0, 1, 2, 100, 16_383, 16_384, 65_535, 65_536, 2 ** 24 - 1, 2 ** 24, MAX_31, 2 ** 31, 2 ** 32 - 1];
      const pairs = Array.from({ length: r.int(4) }, (): [number, number] => [
        r.int(9),
        r.chance(0.8) ? r.pick(values) : r.int(2 ** 32),
      ]);
      return settingsFrame(pairs).subarray(9);
    }
    case FrameType.PING:
      return r.chance(0.85) ? r.bytes(8) : wrongSize();
    case FrameType.GOAWAY:
      return r.chance(0.7) ? Buffer.concat([Buffer.alloc(8), r.bytes(r.int(10))]) : wrongSize();
    case FrameType.WINDOW_UPDATE: {
      if (r.chance(0.15)) return wrongSize();
      const out = Buffer.alloc(4);
      out.writeUInt32BE(r.chance(0.8) ? r.pick([0, 1, 1000, 65_535, 1 << 20, MAX_31]) : r.int(2 ** 32));
      return out;
    }
    default:
      return r.bytes(r.int(30));
  }
}

interface FuzzConnection {
  bytes: Buffer;
  maxStreamId: number;
  /** A well-formed GOAWAY from the client: the server may close without one of its own. */
  clientGoaway: boolean;
}

/** A frame a client may well send: requests, their data, window updates, PINGs, SETTINGS, resets. */
function plausibleFrame(r: Rng, state: { nextId: number; open: number[] }): Buffer {
  const someStream = () => r.pick(state.open);
  let kind = r.int(7);
  if (state.open.length === 0 && kind !== 3 && kind !== 4) kind = 0; // nothing to refer to yet: a request
  switch (kind) {
    case 0: {
      const id = state.nextId;
      state.nextId += 2;
      state.open.push(id);
      const flags = Flag.END_HEADERS | (r.chance(0.5) ? Flag.END_STREAM : 0);
      return frame(FrameType.HEADERS, flags, id, encodeHeaderBlock(withPath(`/f${r.int(9)}`)));
    }
    case 1:
      return frame(FrameType.DATA, r.chance(0.5) ? Flag.END_STREAM : 0, someStream(), r.bytes(r.int(100)));
    case 2:
      return windowUpdateFrame(r.chance(0.5) ? 0 : someStream(), 1 + r.int(65_535));
    case 3:
      return pingFrame(r.bytes(8), false);
    case 4:
      return settingsFrame([
        [Setting.INITIAL_WINDOW_SIZE, r.int(70_000)],
        [Setting.MAX_FRAME_SIZE, 16_384 + r.int(100_000)],
        [Setting.HEADER_TABLE_SIZE, r.int(8192)],
      ]);
    case 5:
      return frame(FrameType.PRIORITY, 0, 1 + 2 * r.int(10), r.bytes(5));
    default:
      return rstStreamFrame(someStream(), r.int(14));
  }
}

function fuzzConnection(r: Rng): FuzzConnection {
  let maxStreamId = 0;
  let clientGoaway = false;
  const state = { nextId: 1, open: [] as number[] };
  const frames: Buffer[] = [];
  const count = 1 + r.int(8);
  for (let i = 0; i < count; i++) {
    if (r.chance(0.75)) {
      const f = plausibleFrame(r, state);
      maxStreamId = Math.max(maxStreamId, f.readUInt32BE(5) % 2 ** 31);
      frames.push(f);
      continue;
    }
    const type = r.int(11);
    const flags = r.chance(0.7)
      ? r.pick([
          0,
          Flag.END_STREAM,
          Flag.END_HEADERS,
          Flag.END_HEADERS | Flag.END_STREAM,
          Flag.END_HEADERS | Flag.PADDED,
          Flag.END_HEADERS | Flag.PRIORITY,
          Flag.PADDED | Flag.END_STREAM,
        ])
      : r.int(256);
    const streamId = r.chance(0.03)
      ? r.int(2 ** 32)
      : r.pick([0, 0, 1, 1, 1, 3, 3, 5, 7, 2, 4, r.int(16), r.int(16) + 2 ** 31]);
    const payload = type === FrameType.DATA && r.chance(0.03) ? Buffer.alloc(16_385) : fuzzPayload(r, type, flags);
    maxStreamId = Math.max(maxStreamId, streamId % 2 ** 31);
    if (type === FrameType.GOAWAY && streamId % 2 ** 31 === 0 && payload.length >= 8) clientGoaway = true;
    frames.push(frame(type, flags, streamId, payload));
  }
  return { bytes: Buffer.concat(frames), maxStreamId, clientGoaway };
}

describe('Http2ServerConnection: fuzz', () => {
  it('survives seeded random frames: each connection stays usable or ends with a GOAWAY', async () => {
    const uncaught: unknown[] = [];
    const guard = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', guard);
    process.on('unhandledRejection', guard);
    try {
      const t = await startServer({ maxConcurrentStreams: 1000, maxResetsPerSecond: 10_000 });
      const problems: string[] = [];
      let usable = 0;
      let refused = 0;
      const runOne = async (seed: number) => {
        const r = new Rng(seed);
        const fuzz = fuzzConnection(r);
        const client = await connect(t);
        // Written in one to three pieces, cut anywhere.
        const cuts = [0, ...Array.from({ length: r.int(3) }, () => r.int(fuzz.bytes.length)).sort((a, b) => a - b)];
        for (const [i, at] of cuts.entries()) client.send(fuzz.bytes.subarray(at, cuts[i + 1] ?? fuzz.bytes.length));
        await settle(client);
        const goaway = goawayOf(client);
        if (goaway?.code === ErrorCode.INTERNAL_ERROR) problems.push(`seed ${seed}: GOAWAY INTERNAL_ERROR`);
        if (client.closed || goaway) {
          await client.untilClosed();
          if (!goaway && !fuzz.clientGoaway) problems.push(`seed ${seed}: closed without a GOAWAY`);
          refused++;
          return;
        }
        usable++;
        // Still usable: a request on a fresh stream is answered.
        const id = fuzz.maxStreamId % 2 === 0 ? fuzz.maxStreamId + 1 : fuzz.maxStreamId + 2;
        if (id > MAX_31) return;
        client.send(headers(id, withPath('/probe'), true));
        const a = await answer(client, id).catch((e: Error) => {
          problems.push(`seed ${seed}: probe on stream ${id} not answered: ${e.message.slice(0, 200)}`);
        });
        if (a && field(a.headers, ':status') !== '200') problems.push(`seed ${seed}: probe answered ${a.headers}`);
        client.close();
      };
      const seeds = Array.from({ length: 300 }, (_, i) => 1000 + i);
      const workers = Array.from({ length: 20 }, async (_, w) => {
        for (let i = w; i < seeds.length; i += 20) await runOne(seeds[i]);
      });
      await Promise.all(workers);
      expect(problems).toEqual([]);
      // Both outcomes are well represented (the fuzz is not all noise nor all harmless).
      expect(usable).toBeGreaterThan(30);
      expect(refused).toBeGreaterThan(30);

      // A fresh connection is served as ever.
      const fresh = await connect(t);
      fresh.send(request(1, '/echo', 'after the fuzz'));
      expect((await answer(fresh, 1)).body.toString()).toBe('after the fuzz');
    } finally {
      process.off('uncaughtException', guard);
      process.off('unhandledRejection', guard);
    }
    expect(uncaught).toEqual([]);
  });
});

// ---- interop ---------------------------------------------------------------------------------

describe('Http2ServerConnection: interop with node:http2 (nghttp2)', () => {
  it('echoes 200 concurrent requests on one session: varied headers, bodies of 0 to 100 KB, trailers', async () => {
    const t = await startServer({
      maxConcurrentStreams: 1000,
      initialWindowSize: 65_535,
      connectionWindowSize: 1 << 20,
    });
    const session = http2.connect(`http://127.0.0.1:${t.port}`);
    cleanups.push(() => session.destroy());
    session.on('error', () => {});
    const r = new Rng(21);
    const contentTypes = ['application/grpc', 'application/grpc+proto', 'application/json; charset=utf-8'];
    const calls = Array.from({ length: 200 }, (_, i) => {
      const size = i === 0 ? 0 : i === 1 ? 100 * 1024 : i === 2 ? 16_384 : r.int(100 * 1024 + 1);
      return {
        path: `/svc.Echo/Method${i % 7}?n=${i}&tag=${'q'.repeat(r.int(40))}`,
        contentType: contentTypes[i % 3],
        extra: `value-${r.int(1000)}-${'z'.repeat(r.int(300))}`,
        body: pattern(size, i),
      };
    });
    const results = await Promise.all(
      calls.map(
        (c) =>
          new Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: Buffer }>(
            (resolve, reject) => {
              const req = session.request({
                ':method': 'POST',
                ':path': c.path,
                'content-type': c.contentType,
                te: 'trailers',
                'user-agent': 'connection-test/1.0',
                'x-same-every-time': 'a value nghttp2 will index once and refer to after',
                'x-extra': c.extra,
              });
              let head: http2.IncomingHttpHeaders = {};
              let trailers: http2.IncomingHttpHeaders = {};
              const chunks: Buffer[] = [];
              req.on('response', (h) => {
                head = h;
              });
              req.on('trailers', (tr) => {
                trailers = tr;
              });
              req.on('data', (chunk: Buffer) => chunks.push(chunk));
              req.on('end', () => resolve({ headers: head, trailers, body: Buffer.concat(chunks) }));
              req.on('error', reject);
              req.end(c.body);
            },
          ),
      ),
    );
    results.forEach((res, i) => {
      const c = calls[i];
      expect(res.headers[':status']).toBe(200);
      expect(res.headers['x-path']).toBe(c.path);
      expect(res.headers['content-type']).toBe(c.contentType);
      expect(res.headers['x-method']).toBe('POST');
      expect(res.body.equals(c.body)).toBe(true);
      expect(res.trailers['grpc-status']).toBe('0');
      expect(res.trailers['x-body-length']).toBe(String(c.body.length));
    });
    expect(t.streams).toHaveLength(200);
    expect(t.connections).toHaveLength(1);
    expect(t.connections[0].streamCount).toBe(0);
  });
});

describe('Http2ServerConnection: what a client can make it hold or do', () => {
  it('drops a client sending more SETTINGS and PINGs a second than maxControlFramesPerSecond', async () => {
    const t = await startServer({ maxControlFramesPerSecond: 20 });
    const client = await connect(t);
    const pings = Array.from({ length: 30 }, (_, i) => pingFrame(Buffer.alloc(8, i), false));
    client.send(...pings);
    await expectConnectionError(client, ErrorCode.ENHANCE_YOUR_CALM);
  });

  it('applies the last SETTINGS_INITIAL_WINDOW_SIZE of a frame to the open streams', async () => {
    const t = await startServer();
    const client = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 0]] });
    client.send(request(1, '/size/300'));
    await settle(client);
    expect(dataSizes(client, 1)).toEqual([]);
    client.send(
      settingsFrame([
        [Setting.INITIAL_WINDOW_SIZE, 1000],
        [Setting.INITIAL_WINDOW_SIZE, 7],
        [Setting.INITIAL_WINDOW_SIZE, 100],
      ]),
    );
    await settle(client);
    expect(dataSizes(client, 1)).toEqual([100]);
  });

  it('starts its next header block with a table size update after the client shrinks its HPACK table [RFC 7541 §4.2]', async () => {
    const t = await startServer();
    for (const headerTableSize of [0, 1024]) {
      const session = http2.connect(`http://127.0.0.1:${t.port}`, { settings: { headerTableSize } });
      cleanups.push(() => session.destroy());
      const bodies = await Promise.all(
        ['one', 'two'].map(
          (text) =>
            new Promise<string>((resolve, reject) => {
              const req = session.request({ ':method': 'POST', ':path': '/echo', 'content-type': 'application/grpc' });
              const chunks: Buffer[] = [];
              req.on('data', (c: Buffer) => chunks.push(c));
              req.on('error', reject);
              req.on('close', () => resolve(Buffer.concat(chunks).toString()));
              req.end(text);
            }),
        ),
      );
      expect(bodies).toEqual(['one', 'two']);
    }
  });

  it('sends the final GOAWAY on the acknowledgement of its own PING, not of a keepalive PING [6.7]', async () => {
    const t = await startServer({ keepaliveTimeMs: 20, keepaliveTimeoutMs: 10_000 });
    const client = await connect(t);
    const isPing = (payload: string) => (f: ReceivedFrame) =>
      f.type === FrameType.PING && !(f.flags & Flag.ACK) && f.payload.toString('latin1') === payload;
    const keepalive = await client.waitFor((fs) => fs.find(isPing('aigwkeep')));
    t.connections[0].close(10_000);
    const closing = await client.waitFor((fs) => fs.find(isPing('aigwdone')));
    client.send(pingFrame(keepalive.payload, true));
    await settle(client);
    expect(client.ofType(FrameType.GOAWAY)).toHaveLength(1);
    client.send(pingFrame(closing.payload, true));
    await client.waitFor(() => client.ofType(FrameType.GOAWAY).length === 2);
  });

  it('drops a client whose shut windows hold more of its answers than maxOutputBytes', async () => {
    const t = await startServer({ maxOutputBytes: 100_000 });
    const client = await connect(t, { settings: [[Setting.INITIAL_WINDOW_SIZE, 0]] });
    for (let id = 1; id <= 5; id += 2) client.send(request(id, '/size/30000'));
    await settle(client);
    expect(client.closed).toBe(false); // 90,000 octets wait
    client.send(request(7, '/size/30000'));
    await client.untilClosed();
    await until(() => t.closed === 1);
  });
});

describe('Http2ServerConnection: PINGs between answers', () => {
  it('does not count a PING that follows an answer (a gRPC client probing its bandwidth) against the limit', async () => {
    const t = await startServer({ maxControlFramesPerSecond: 20 });
    const client = await connect(t);
    for (let i = 0; i < 60; i++) {
      const id = 2 * i + 1;
      client.send(request(id, '/echo', `call ${i}`));
      await answer(client, id);
      client.send(pingFrame(Buffer.alloc(8, i), false));
    }
    await settle(client);
    expect(client.closed).toBe(false);
    expect(goawayOf(client)).toBeUndefined();
  });
});
