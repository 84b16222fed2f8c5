// Our gRPC server: unary methods (and the health service's Watch stream) over node:http2, for a
// hot local service that Envoy calls over a few long-lived HTTP/2 connections.
//
// Why not @grpc/grpc-js's Server: measured on the same h2load load, its per-call machinery costs
// ~20 µs of CPU above node:http2 (~80 against ~62 µs per call on the bench machine), a quarter of
// ext-authz's whole budget; @connectrpc/connect-node's server measured ~10× grpc-js's. What a unary
// call needs from the protocol (grpc/grpc doc/PROTOCOL-HTTP2.md) is small and lives in
// grpc-protocol.ts. Services are still described with grpc-js definitions (grpc-service.ts) and
// implemented as grpc-js unary handlers `(call, callback)`; grpc-js remains the client.
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
import http2 from 'node:http2';
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
} from './grpc-protocol.js';
import type { HealthState } from './health-state.js';

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
  /** A PING to each connection this often (default 60 s); one not acknowledged within keepaliveTimeoutMs (default 20 s) drops it. */
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
}

export interface GrpcServerHandle {
  port: number;
  server: http2.Http2Server;
  /** Stops accepting connections, lets in-flight calls finish (up to drainTimeoutMs), then cuts the rest. Idempotent. */
  close(): Promise<void>;
}

export const GRPC_SERVER_DEFAULTS = {
  // Envoy multiplexes every request onto a handful of connections: do not cap streams low.
  maxConcurrentStreams: 100_000,
  // Detect dead peers.
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxReceiveMessageBytes: 4 * 1024 * 1024,
  maxBufferedRequestBytes: 64 * 1024 * 1024,
  drainTimeoutMs: 5000,
  // close(): how long a first GOAWAY (no stream refused) stands before the final one.
  goawayGraceMs: 1000,
} as const;

type UnaryCallback = (error: Partial<grpc.StatusObject> | Error | null, value?: unknown) => void;
type UnaryHandler = (call: { request: unknown }, callback: UnaryCallback) => void;
interface UnaryRoute {
  decode: (bytes: Buffer) => unknown;
  encode: (value: unknown) => Buffer;
  handle: UnaryHandler;
}

const OK_HEADERS = { ':status': 200, 'content-type': 'application/grpc' };
// Trailers-Only answers (every status but OK) also say which message encoding the server takes.
const STATUS_HEADERS = { ...OK_HEADERS, 'grpc-accept-encoding': 'identity' };
// application/grpc and application/grpc+proto, with parameters; not grpc-web, not other codecs.
const GRPC_CONTENT_TYPE = /^application\/grpc(\+proto)?(;|$)/i;
/** grpc-message is cut to this many characters: Envoy drops responses whose headers exceed its limit. */
const MAX_STATUS_MESSAGE = 1024;
const OK_TRAILERS = { 'grpc-status': '0' };
const RESPOND_OPTIONS = { waitForTrailers: true, sendDate: false };
const END_OPTIONS = { endStream: true, sendDate: false };
const ignore = () => {};

export async function startGrpcServer(opts: StartGrpcServerOptions): Promise<GrpcServerHandle> {
  const routes = unaryRoutes(opts.services);
  const maxMessage = opts.maxReceiveMessageBytes ?? GRPC_SERVER_DEFAULTS.maxReceiveMessageBytes;
  const budget: RequestBudget = {
    held: 0,
    max: Math.max(opts.maxBufferedRequestBytes ?? GRPC_SERVER_DEFAULTS.maxBufferedRequestBytes, 2 * maxMessage),
  };
  let closing: Promise<void> | undefined;
  const health = opts.health;
  const watches = new Set<(code: number, message: string) => void>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const keepaliveTimeMs = opts.keepaliveTimeMs ?? GRPC_SERVER_DEFAULTS.keepaliveTimeMs;
  const keepaliveTimeoutMs = opts.keepaliveTimeoutMs ?? GRPC_SERVER_DEFAULTS.keepaliveTimeoutMs;

  const server = http2.createServer({
    settings: { maxConcurrentStreams: GRPC_SERVER_DEFAULTS.maxConcurrentStreams },
    // As grpc-js: node's per-connection memory cap answers a busy connection with
    // ENHANCE_YOUR_CALM, which would fail every call Envoy has on it; message sizes are capped.
    maxSessionMemory: Number.MAX_SAFE_INTEGER,
    maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER,
  });

  server.on('session', (session) => {
    sessions.add(session);
    session.on('error', ignore); // a broken connection ends its calls, never the process
    const keepalive = setInterval(() => {
      // A closing session (GOAWAY sent, calls draining) is not pinged: node cancels its pings.
      if (closing || session.closed || session.destroyed) return;
      const timeout = setTimeout(() => session.destroy(), keepaliveTimeoutMs);
      timeout.unref();
      try {
        session.ping((error) => {
          clearTimeout(timeout);
          if (error && !closing && !session.closed) session.destroy();
        });
      } catch {
        clearTimeout(timeout);
      }
    }, keepaliveTimeMs);
    keepalive.unref();
    session.once('close', () => {
      clearInterval(keepalive);
      sessions.delete(session);
    });
  });

  server.on('stream', (stream, headers) => {
    stream.on('error', ignore); // a reset stream: its call is gone
    if (headers[':method'] !== 'POST') {
      respondHttpError(stream, 405, 'gRPC calls are POST requests');
      return;
    }
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !GRPC_CONTENT_TYPE.test(contentType)) {
      respondHttpError(stream, 415, 'content-type must be application/grpc or application/grpc+proto');
      return;
    }
    const path = headers[':path'] ?? '';
    const route = routes.get(path);
    if (route) {
      readBody(stream, maxMessage, budget, (body) => serveUnary(stream, route, body));
      return;
    }
    if (path === HEALTH_CHECK_PATH) {
      readBody(stream, maxMessage, budget, (body) => serveHealthCheck(stream, body));
      return;
    }
    if (path === HEALTH_WATCH_PATH) {
      readBody(stream, maxMessage, budget, (body) => serveHealthWatch(stream, body));
      return;
    }
    respondStatus(stream, GrpcStatus.UNIMPLEMENTED, `unknown method ${path}`);
    stopReading(stream);
  });

  function serveHealthCheck(stream: http2.ServerHttp2Stream, body: Buffer): void {
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

  function serveHealthWatch(stream: http2.ServerHttp2Stream, body: Buffer): void {
    const service = decodeOrRespond(stream, body, readHealthRequest);
    if (service === undefined) return;
    if (closing) {
      respondStatus(stream, GrpcStatus.UNAVAILABLE, 'server shutting down');
      return;
    }
    if (stream.closed || stream.destroyed) return; // the client went away
    let sent = watchedStatus(health, service);
    stream.respond(OK_HEADERS, RESPOND_OPTIONS);
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
      if (stream.closed || stream.destroyed) return;
      stream.once('wantTrailers', () => stream.sendTrailers(statusTrailers(code, message)));
      stream.end();
    };
    watches.add(end);
    stream.once('close', () => end(GrpcStatus.CANCELLED, 'cancelled'));
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
    throw new Error(`gRPC server cannot listen on ${address}: ${(e as Error).message}`, { cause: e });
  }
  server.on('error', ignore); // after listen: per-connection errors surface on their sessions

  const drainTimeoutMs = opts.drainTimeoutMs ?? GRPC_SERVER_DEFAULTS.drainTimeoutMs;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close();
      for (const end of [...watches]) end(GrpcStatus.UNAVAILABLE, 'server shutting down');
      const done = () => {
        if (sessions.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        for (const session of sessions) session.destroy();
        resolve();
      }, drainTimeoutMs);
      // Two GOAWAYs, as gRPC servers do: the first names no last stream, so calls the client has
      // already sent are still taken; once it has had time to see it (a PING round trip, at most
      // goawayGraceMs), close() sends the real one and lets the calls started finish.
      for (const session of sessions) {
        session.once('close', done);
        let final = false;
        const closeSession = () => {
          if (final) return;
          final = true;
          if (!session.closed && !session.destroyed) session.close();
        };
        try {
          session.goaway(http2.constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1);
          session.ping(closeSession);
        } catch {
          closeSession();
        }
        setTimeout(closeSession, GRPC_SERVER_DEFAULTS.goawayGraceMs).unref();
      }
      done();
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

/** Request bytes held by the calls being read, over the whole server. */
interface RequestBudget {
  held: number;
  max: number;
}

/**
 * Collects a request body of at most one message of `maxMessage` bytes, then calls `done` (not
 * for a call its client has reset meanwhile).
 */
function readBody(
  stream: http2.ServerHttp2Stream,
  maxMessage: number,
  budget: RequestBudget,
  done: (body: Buffer) => void,
): void {
  const limit = maxMessage + MESSAGE_PREFIX_BYTES;
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  let refused = false;
  const release = () => {
    budget.held -= size;
    size = 0;
  };
  const refuse = (message: string) => {
    refused = true;
    first = chunks = undefined;
    release();
    respondStatus(stream, GrpcStatus.RESOURCE_EXHAUSTED, message);
    stopReading(stream);
  };
  stream.on('data', (chunk: Buffer) => {
    if (refused) return;
    if (size + chunk.length > limit) return refuse(`request message larger than ${maxMessage} bytes`);
    if (budget.held + chunk.length > budget.max) return refuse('server busy: too many request bytes in flight');
    size += chunk.length;
    budget.held += chunk.length;
    if (first === undefined) first = chunk;
    else if (chunks) chunks.push(chunk);
    else chunks = [first, chunk];
  });
  stream.on('end', () => {
    if (refused) return;
    const body = chunks ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0));
    release();
    // 'end' can come after the client reset the stream (END_STREAM and RST_STREAM in one read).
    if (!stream.closed && !stream.destroyed) done(body);
  });
  stream.once('close', release); // reset mid-body
}

/** After an early answer: stop the client's upload (RST_STREAM NO_ERROR once the answer is out). */
function stopReading(stream: http2.ServerHttp2Stream): void {
  stream.resume();
  if (!stream.closed && !stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

function serveUnary(stream: http2.ServerHttp2Stream, route: UnaryRoute, body: Buffer): void {
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
function decodeOrRespond<T>(
  stream: http2.ServerHttp2Stream,
  body: Buffer,
  decode: (bytes: Buffer) => T,
): T | undefined {
  try {
    return decode(singleMessage(body));
  } catch (e) {
    if (e instanceof FramingError) respondStatus(stream, e.code, e.message);
    else respondStatus(stream, GrpcStatus.INTERNAL, (e as Error).message);
    return undefined;
  }
}

function respondMessage(stream: http2.ServerHttp2Stream, message: Uint8Array): void {
  if (stream.closed || stream.destroyed || stream.headersSent) return; // the client went away
  stream.respond(OK_HEADERS, RESPOND_OPTIONS);
  stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
  stream.end(frameMessage(message));
}

function respondError(stream: http2.ServerHttp2Stream, error: Partial<grpc.StatusObject> | Error): void {
  const e = error as Partial<grpc.StatusObject> & { message?: string };
  const code = typeof e.code === 'number' && e.code > 0 && e.code <= 16 ? e.code : GrpcStatus.UNKNOWN;
  respondStatus(stream, code, e.details ?? e.message ?? '');
}

/** A Trailers-Only response: the status in the only HEADERS frame. */
function respondStatus(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  if (stream.closed || stream.destroyed || stream.headersSent) return;
  stream.respond({ ...STATUS_HEADERS, ...statusTrailers(code, message) }, END_OPTIONS);
}

function respondHttpError(stream: http2.ServerHttp2Stream, status: number, message: string): void {
  if (stream.closed || stream.destroyed || stream.headersSent) return;
  stream.respond(
    { ':status': status, 'content-type': 'application/grpc', ...statusTrailers(GrpcStatus.INTERNAL, message) },
    END_OPTIONS,
  );
  stopReading(stream);
}

function statusTrailers(code: number, text: string): Record<string, string> {
  const message = text.length > MAX_STATUS_MESSAGE ? `${text.slice(0, MAX_STATUS_MESSAGE - 1)}…` : text;
  return message
    ? { 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(message) }
    : { 'grpc-status': String(code) };
}
