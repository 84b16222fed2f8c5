// The admin HTTP listener of a service: liveness (/healthz), readiness (/readyz), Prometheus (/metrics)
// and optional extra routes. Bounded: request bodies over 1 MiB get 413 and slow clients time out.
import http from 'node:http';
import type { Registry } from 'prom-client';
import type { HealthState } from './health-state.js';

export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;

/**
 * Extra routes. Called for any path other than the built-in ones, after the request body was read
 * (at most 1 MiB, passed as `body`). Return true when the request was handled (a response is or
 * will be sent); false to fall through to 404. A throw becomes a 500.
 */
export type HttpRoutes = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => boolean;

export interface StartHttpServerOptions {
  /** Listen address; default '0.0.0.0'. */
  host?: string;
  /** 0 picks a free port; the real one is returned. */
  port: number;
  health: HealthState;
  registry: Registry;
  routes?: HttpRoutes;
  /** How long close() waits for in-flight requests before dropping connections; default 5000 ms. */
  drainTimeoutMs?: number;
}

export interface HttpServerHandle {
  port: number;
  server: http.Server;
  /** Stops listening, waits for in-flight requests (up to drainTimeoutMs), then drops connections. Idempotent. */
  close(): Promise<void>;
}

export async function startHttpServer(opts: StartHttpServerOptions): Promise<HttpServerHandle> {
  const server = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
    handle(opts, req, res).catch((e: unknown) => {
      sendText(res, 500, `internal error: ${e instanceof Error ? e.message : String(e)}`);
    });
  });
  server.headersTimeout = 10_000; // whole header block
  server.requestTimeout = 30_000; // whole request, body included
  server.keepAliveTimeout = 5_000; // idle keep-alive connection
  server.timeout = 60_000; // socket inactivity
  server.maxRequestsPerSocket = 1000;

  const host = opts.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) =>
      reject(new Error(`HTTP server cannot listen on ${host}:${opts.port}: ${e.message}`, { cause: e }));
    server.once('error', onError);
    server.listen(opts.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  const drainTimeoutMs = opts.drainTimeoutMs ?? 5000;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => server.closeAllConnections(), drainTimeoutMs);
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };

  return { port, server, close };
}

async function handle(
  opts: StartHttpServerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const body = await readBody(req, res);
  if (body === undefined) return; // already answered (413) or the client went away

  const path = pathOf(req.url);
  const builtin = path === '/healthz' || path === '/readyz' || path === '/metrics';
  if (builtin && req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendText(res, 405, 'method not allowed');
    return;
  }
  if (path === '/healthz') {
    sendText(res, 200, 'ok');
    return;
  }
  if (path === '/readyz') {
    if (opts.health.isServing('')) sendText(res, 200, 'ok');
    else sendText(res, 503, `not ready: ${opts.health.reason('') ?? 'not serving'}`);
    return;
  }
  if (path === '/metrics') {
    const text = await opts.registry.metrics();
    res.statusCode = 200;
    res.setHeader('content-type', opts.registry.contentType);
    res.setHeader('cache-control', 'no-store');
    res.end(text);
    return;
  }
  if (opts.routes) {
    let handled: boolean;
    try {
      handled = opts.routes(req, res, body);
    } catch (e) {
      sendText(res, 500, `internal error: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (handled) return;
  }
  sendText(res, 404, 'not found');
}

/** Reads the whole body, at most MAX_REQUEST_BODY_BYTES. Answers 413 itself and returns undefined beyond that. */
function readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_REQUEST_BODY_BYTES) {
    tooLarge(req, res);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: Buffer | undefined) => {
      if (done) return;
      done = true;
      resolve(value);
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > MAX_REQUEST_BODY_BYTES) {
        tooLarge(req, res);
        finish(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish(Buffer.concat(chunks, size)));
    req.on('error', () => finish(undefined));
    req.on('close', () => finish(undefined));
  });
}

function tooLarge(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('connection', 'close');
  sendText(res, 413, `request body larger than ${MAX_REQUEST_BODY_BYTES} bytes`);
  // Stop reading: the rest of the body is not wanted, the connection is closed after the response.
  res.on('finish', () => req.destroy());
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(`${text}\n`);
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}
