// Our gRPC server: unary methods (and the health service's Watch stream) over our own HTTP/2
// server connection (http2/), for a hot local service that Envoy calls over a few long-lived
// HTTP/2 connections.
//
// Why not @grpc/grpc-js's Server, nor node:http2: measured on the same h2load load, grpc-js's
// per-call machinery costs ~20 µs of CPU above node:http2, and node:http2 itself (a Duplex stream,
// a headers object of external strings and several callbacks per call) most of the rest; the
// framing a gRPC server needs from HTTP/2 is small (http2/connection.ts): a no-op on it costs
// ~9 µs of CPU per call against ~46 µs on node:http2 (BENCHMARKS.md). @connectrpc/connect-node's
// server measured ~10× grpc-js's. What a unary call needs from the gRPC protocol (grpc/grpc
// doc/PROTOCOL-HTTP2.md) lives in grpc-protocol.ts. Services are still described with grpc-js
// definitions (grpc-service.ts) and implemented as grpc-js unary handlers `(call, callback)`;
// grpc-js remains the client.
//
// What it does: POST with content-type application/grpc or application/grpc+proto only (HTTP
// 405/415 otherwise); unknown methods answer UNIMPLEMENTED; one uncompressed message per request,
// at most maxReceiveMessageBytes, and at most maxBufferedRequestBytes held over all calls being
// read (RESOURCE_EXHAUSTED beyond, the upload stopped); a request that does not decode answers
// INTERNAL without calling the handler, as does a handler that throws; a call whose client went
// away (cancelled, or past its grpc-timeout: the client resets the stream) is not answered. Every
// status but OK is a Trailers-Only answer, its grpc-message cut to 1024 characters. Keepalive: a
// PING every keepaliveTimeMs, the connection dropped when it is not acknowledged within
// keepaliveTimeoutMs. close(): a first GOAWAY that refuses no call, the final one a PING later,
// in-flight calls finish (up to drainTimeoutMs, then connections are cut), open health watches end
// UNAVAILABLE.
import net from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import {
  HEALTH_CHECK_PATH,
  HEALTH_WATCH_PATH,
  healthResponse,
  readHealthRequest,
  ServingStatus,
  watchedStatus,
} from './grpc-health-service.js';
import {
  encodeGrpcMessage,
  FramingError,
  frameMessage,
  GrpcStatus,
  MESSAGE_PREFIX_BYTES,
  singleMessage,
  writeMessagePrefix,
} from './grpc-protocol.js';
import { GrpcRequestReader } from './grpc-request-reader.js';
import type { HealthState } from './health-state.js';
import { Http2ServerConnection } from './http2/connection.js';
import { encodeHeaderBlock } from './http2/hpack-encoder.js';
import type { Http2ServerStream } from './http2/server-stream.js';

export interface GrpcServiceRegistration {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface StartGrpcServerOptions {
  /** Listen address; default '0.0.0.0'. An IPv6 literal may be given with or without brackets. */
  host?: string;
  /** 0 picks a free port; the real one is returned. */
  port: number;
  /** Unary methods only (a streaming method is refused at start). */
  services: GrpcServiceRegistration[];
  health: HealthState;
  /** Largest accepted request message; default 4 MiB (the grpc-js default). */
  maxReceiveMessageBytes?: number;
  /**
   * Request bytes held at once over all calls still being read; a call that would go beyond is
   * answered RESOURCE_EXHAUSTED. Default 64 MiB, at least twice maxReceiveMessageBytes.
   */
  maxBufferedRequestBytes?: number;
  /** How long close() lets in-flight calls finish before cutting connections; default 5000 ms. */
  drainTimeoutMs?: number;
  /** How long a call may take to send its request (default 10 s): one that takes longer is answered DEADLINE_EXCEEDED. */
  requestReadTimeoutMs?: number;
  /** A PING to each connection this often (default 60 s); one not acknowledged within keepaliveTimeoutMs (default 20 s) drops it. */
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
}

export interface GrpcServerHandle {
  port: number;
  server: net.Server;
  /** Stops accepting connections, lets in-flight calls finish (up to drainTimeoutMs), then cuts the rest. Idempotent. */
  close(): Promise<void>;
}

export const GRPC_SERVER_DEFAULTS = {
  // Envoy multiplexes its calls onto a handful of connections (and opens another when one is
  // full): high, but bounded, as each open stream holds memory.
  maxConcurrentStreams: 10_000,
  // Detect dead peers.
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxReceiveMessageBytes: 4 * 1024 * 1024,
  maxBufferedRequestBytes: 64 * 1024 * 1024,
  drainTimeoutMs: 5000,
  // close(): how long a first GOAWAY (no stream refused) stands before the final one.
  goawayGraceMs: 1000,
  // HTTP/2 flow control: what a client may send on one call, and on one connection, before we
  // open the window again (we do as soon as half is read: memory is bounded by the byte budget).
  streamWindowBytes: 1024 * 1024,
  connectionWindowBytes: 16 * 1024 * 1024,
  // A gRPC call's own headers are a few hundred octets; Envoy's request headers travel inside
  // the message, not here.
  maxHeaderListBytes: 64 * 1024,
  // Envoy resets calls past their timeout; a connection on which more than this many calls a
  // second are reset before their answer, by the client or by us for its errors, is closed
  // (rapid reset, CVE-2023-44487; MadeYouReset, CVE-2025-8671).
  maxResetsPerSecond: 10_000,
  // Envoy sends SETTINGS once and PINGs every few seconds at most.
  maxControlFramesPerSecond: 200,
  // A request Envoy sends arrives at once; one still incomplete after this holds memory for nothing.
  requestReadTimeoutMs: 10_000,
  // Answers held for a client that does not read them.
  maxOutputBytes: 64 * 1024 * 1024,
} as const;

type UnaryCallback = (error: Partial<grpc.StatusObject> | Error | null, value?: unknown) => void;
type UnaryHandler = (call: { request: unknown }, callback: UnaryCallback) => void;
interface UnaryRoute {
  decode: (bytes: Buffer) => unknown;
  encode: (value: unknown) => Buffer;
  handle: UnaryHandler;
}

const OK_HEADERS = encodeHeaderBlock([
  [':status', '200'],
  ['content-type', 'application/grpc'],
]);
const OK_TRAILERS = encodeHeaderBlock([['grpc-status', '0']]);
// application/grpc and application/grpc+proto, with parameters; not grpc-web, not other codecs.
const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?(;|$)/i;
/** grpc-message is cut to this many characters: Envoy drops responses whose headers exceed its limit. */
const MAX_STATUS_MESSAGE = 1024;

export async function startGrpcServer(opts: StartGrpcServerOptions): Promise<GrpcServerHandle> {
  const routes = unaryRoutes(opts.services);
  const maxMessage = opts.maxReceiveMessageBytes ?? GRPC_SERVER_DEFAULTS.maxReceiveMessageBytes;
  const reader = new GrpcRequestReader(
    maxMessage,
    Math.max(opts.maxBufferedRequestBytes ?? GRPC_SERVER_DEFAULTS.maxBufferedRequestBytes, 2 * maxMessage),
    opts.requestReadTimeoutMs ?? GRPC_SERVER_DEFAULTS.requestReadTimeoutMs,
    respondStatus,
  );
  let closing: Promise<void> | undefined;
  const health = opts.health;
  const watches = new Set<(code: number, message: string) => void>();
  const connections = new Set<Http2ServerConnection>();
  let onConnectionClosed = () => {};
  const connectionOptions = {
    maxConcurrentStreams: GRPC_SERVER_DEFAULTS.maxConcurrentStreams,
    initialWindowSize: GRPC_SERVER_DEFAULTS.streamWindowBytes,
    connectionWindowSize: GRPC_SERVER_DEFAULTS.connectionWindowBytes,
    maxHeaderListSize: GRPC_SERVER_DEFAULTS.maxHeaderListBytes,
    keepaliveTimeMs: opts.keepaliveTimeMs ?? GRPC_SERVER_DEFAULTS.keepaliveTimeMs,
    keepaliveTimeoutMs: opts.keepaliveTimeoutMs ?? GRPC_SERVER_DEFAULTS.keepaliveTimeoutMs,
    maxResetsPerSecond: GRPC_SERVER_DEFAULTS.maxResetsPerSecond,
    maxControlFramesPerSecond: GRPC_SERVER_DEFAULTS.maxControlFramesPerSecond,
    maxOutputBytes: GRPC_SERVER_DEFAULTS.maxOutputBytes,
    onStream: (stream: Http2ServerStream) => onStream(stream),
  };

  const server = net.createServer((socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    const connection: Http2ServerConnection = new Http2ServerConnection(socket, {
      ...connectionOptions,
      onClose: () => {
        connections.delete(connection);
        onConnectionClosed();
      },
    });
    connections.add(connection);
  });

  function onStream(stream: Http2ServerStream): void {
    if (stream.method !== 'POST') {
      respondHttpError(stream, 405, 'gRPC calls are POST requests');
      return;
    }
    const contentType = stream.contentType;
    if (contentType === undefined || !GRPC_CONTENT_TYPE.test(contentType)) {
      respondHttpError(stream, 415, 'content-type must be application/grpc or application/grpc+proto');
      return;
    }
    const path = stream.path;
    const route = routes.get(path);
    if (route) {
      reader.read(stream, (body) => serveUnary(stream, route, body));
      return;
    }
    if (path === HEALTH_CHECK_PATH) {
      reader.read(stream, (body) => serveHealthCheck(stream, body));
      return;
    }
    if (path === HEALTH_WATCH_PATH) {
      reader.read(stream, (body) => serveHealthWatch(stream, body));
      return;
    }
    respondStatus(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${path}`);
    stream.stopReading();
  }

  function serveHealthCheck(stream: Http2ServerStream, body: Buffer): void {
    const service = decodeOrRespond(stream, body, readHealthRequest);
    if (service === undefined) return;
    if (!health.has(service)) {
      respondStatus(stream, GrpcStatus.NOT_FOUND, `unknown service ${service}`);
      return;
    }
    respondMessage(
      stream,
      healthResponse(health.isServing(service) ? ServingStatus.SERVING : ServingStatus.NOT_SERVING),
    );
  }

  function serveHealthWatch(stream: Http2ServerStream, body: Buffer): void {
    const service = decodeOrRespond(stream, body, readHealthRequest);
    if (service === undefined) return;
    if (closing) {
      respondStatus(stream, GrpcStatus.UNAVAILABLE, 'server shutting down');
      return;
    }
    if (stream.closed) return; // the client went away
    let sent = watchedStatus(health, service);
    stream.respond(OK_HEADERS);
    stream.write(frameMessage(healthResponse(sent)));
    const unsubscribe = health.onChange(() => {
      const now = watchedStatus(health, service);
      if (now === sent || stream.closed) return;
      sent = now;
      stream.write(frameMessage(healthResponse(now)));
    });
    const end = (code: number, message: string) => {
      unsubscribe();
      watches.delete(end);
      if (!stream.closed) stream.end(statusBlock(code, message));
    };
    watches.add(end);
    stream.onClose = () => end(GrpcStatus.CANCELLED, 'cancelled');
  }

  const host = (opts.host ?? '0.0.0.0').replace(/^\[(.*)\]$/, '$1');
  const address = `${host.includes(':') ? `[${host}]` : host}:${opts.port}`;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, host, () => {
        server.off('error', reject);
        const bound = server.address();
        resolve(typeof bound === 'object' && bound ? bound.port : opts.port);
      });
    });
  } catch (e) {
    server.close();
    reader.close();
    throw new Error(`gRPC server cannot listen on ${address}: ${(e as Error).message}`, { cause: e });
  }
  server.on('error', () => {}); // after listen: per-connection errors surface on their sockets

  const drainTimeoutMs = opts.drainTimeoutMs ?? GRPC_SERVER_DEFAULTS.drainTimeoutMs;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close();
      reader.close();
      for (const end of [...watches]) end(GrpcStatus.UNAVAILABLE, 'server shutting down');
      const timer = setTimeout(() => {
        for (const connection of [...connections]) connection.destroy();
        resolve();
      }, drainTimeoutMs);
      onConnectionClosed = () => {
        if (connections.size > 0) return;
        clearTimeout(timer);
        resolve();
      };
      // Two GOAWAYs, as gRPC servers do (Http2ServerConnection.close): calls the client has
      // already sent are still taken, then those started finish.
      for (const connection of connections) connection.close(GRPC_SERVER_DEFAULTS.goawayGraceMs);
      onConnectionClosed();
    });
    return closing;
  };

  return { port, server, close };
}

/** The unary routes of the registered services, by path; a streaming method is refused. */
function unaryRoutes(services: GrpcServiceRegistration[]): Map<string, UnaryRoute> {
  const routes = new Map<string, UnaryRoute>();
  for (const { definition, implementation } of services) {
    for (const [name, method] of Object.entries(definition)) {
      if (method.requestStream || method.responseStream) {
        throw new Error(`startGrpcServer: ${method.path} is a streaming method; only unary methods are served`);
      }
      const handle = (implementation[name] ?? implementation[method.originalName ?? '']) as UnaryHandler | undefined;
      if (!handle) continue; // not implemented: UNIMPLEMENTED, as for an unknown path
      routes.set(method.path, {
        decode: method.requestDeserialize as (bytes: Buffer) => unknown,
        encode: method.responseSerialize as (value: unknown) => Buffer,
        handle,
      });
    }
  }
  return routes;
}

function serveUnary(stream: Http2ServerStream, route: UnaryRoute, body: Buffer): void {
  const request = decodeOrRespond(stream, body, route.decode);
  if (request === undefined) return;
  let answered = false;
  const callback: UnaryCallback = (error, value) => {
    if (answered) return;
    answered = true;
    if (error) {
      respondError(stream, error);
      return;
    }
    let bytes: Buffer;
    try {
      bytes = route.encode(value);
    } catch (e) {
      respondStatus(stream, GrpcStatus.INTERNAL, `cannot encode the response: ${(e as Error).message}`);
      return;
    }
    respondMessage(stream, bytes);
  };
  try {
    route.handle({ request }, callback);
  } catch (e) {
    callback({ code: GrpcStatus.INTERNAL, details: (e as Error).message });
  }
}

/** The request message, decoded; or undefined once the stream has been answered INTERNAL. */
function decodeOrRespond<T>(stream: Http2ServerStream, body: Buffer, decode: (bytes: Buffer) => T): T | undefined {
  try {
    return decode(singleMessage(body));
  } catch (e) {
    if (e instanceof FramingError) respondStatus(stream, e.code, e.message);
    else respondStatus(stream, GrpcStatus.INTERNAL, (e as Error).message);
    return undefined;
  }
}

function respondMessage(stream: Http2ServerStream, message: Uint8Array): void {
  if (stream.closed || stream.headersSent) return; // the client went away
  const prefix = Buffer.allocUnsafe(MESSAGE_PREFIX_BYTES);
  writeMessagePrefix(prefix, message.byteLength);
  stream.answer(OK_HEADERS, [prefix, message], OK_TRAILERS);
}

function respondError(stream: Http2ServerStream, error: Partial<grpc.StatusObject> | Error): void {
  const e = error as Partial<grpc.StatusObject> & { message?: string };
  const code = typeof e.code === 'number' && e.code > 0 && e.code <= 16 ? e.code : GrpcStatus.UNKNOWN;
  respondStatus(stream, code, e.details ?? e.message ?? '');
}

/** A Trailers-Only response: the status in the only HEADERS frame. */
function respondStatus(stream: Http2ServerStream, code: number, message: string): void {
  if (stream.closed || stream.headersSent) return;
  stream.respond(statusBlock(code, message, true), true);
}

function respondHttpError(stream: Http2ServerStream, status: number, message: string): void {
  if (stream.closed || stream.headersSent) return;
  stream.respond(
    encodeHeaderBlock([
      [':status', String(status)],
      ['content-type', 'application/grpc'],
      ...statusFields(GrpcStatus.INTERNAL, message),
    ]),
    true,
  );
  stream.stopReading();
}

/**
 * The status as a header block: trailers after a message, or (`trailersOnly`) the whole answer,
 * which also says which message encoding the server takes.
 */
function statusBlock(code: number, message: string, trailersOnly = false): Buffer {
  if (!trailersOnly) return encodeHeaderBlock(statusFields(code, message));
  return encodeHeaderBlock([
    [':status', '200'],
    ['content-type', 'application/grpc'],
    ['grpc-accept-encoding', 'identity'],
    ...statusFields(code, message),
  ]);
}

function statusFields(code: number, text: string): [string, string][] {
  const message = text.length > MAX_STATUS_MESSAGE ? `${text.slice(0, MAX_STATUS_MESSAGE - 1)}…` : text;
  return message
    ? [
        ['grpc-status', String(code)],
        ['grpc-message', encodeGrpcMessage(message)],
      ]
    : [['grpc-status', String(code)]];
}
