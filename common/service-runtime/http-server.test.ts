import http from 'node:http';
import net from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthState } from './health-state.js';
import {
  type HttpServerHandle,
  MAX_REQUEST_BODY_BYTES,
  type StartHttpServerOptions,
  startHttpServer,
} from './http-server.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function start(
  extra: Partial<StartHttpServerOptions> = {},
): Promise<HttpServerHandle & { health: HealthState; registry: Registry }> {
  const health = extra.health ?? new HealthState();
  const registry = extra.registry ?? new Registry();
  const handle = await startHttpServer({ host: '127.0.0.1', port: 0, health, registry, ...extra });
  cleanups.push(() => handle.close());
  return { ...handle, health, registry };
}

/** A raw request with node:http (fetch refuses some of what the tests need, like bodies on GET). */
function request(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string | number>; body?: Buffer | Buffer[] },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    for (const chunk of Array.isArray(opts.body) ? opts.body : opts.body ? [opts.body] : []) req.write(chunk);
    req.end();
  });
}

describe('startHttpServer', () => {
  it('listens on a free port and answers /healthz with 200 ok', async () => {
    const { port } = await start();
    expect(port).toBeGreaterThan(0);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe('ok');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('answers /readyz from health.isServing("") with a reason while not ready', async () => {
    const { port, health } = await start();
    let res = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/^not ready: starting/);

    health.setServing('', true);
    res = await fetch(`http://127.0.0.1:${port}/readyz?verbose=1`);
    expect(res.status).toBe(200);
    expect((await res.text()).trim()).toBe('ok');

    health.setServing('', false, 'draining');
    res = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(res.status).toBe(503);
    expect((await res.text()).trim()).toBe('not ready: draining');

    // /healthz is about the process, not readiness.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('serves /metrics from the registry with its content type', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'test_requests_total', help: 'test counter', registers: [registry] });
    counter.inc(3);
    const { port } = await start({ registry });
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    const text = await res.text();
    expect(text).toContain('# TYPE test_requests_total counter');
    expect(text).toContain('test_requests_total 3');
  });

  it('answers 404 for unknown paths, and 405 for non-GET on the built-in ones', async () => {
    const { port } = await start();
    const notFound = await fetch(`http://127.0.0.1:${port}/nope`);
    expect(notFound.status).toBe(404);
    const post = await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('hands other paths to routes, with the request body; false falls through to 404; a throw is a 500', async () => {
    const seen: string[] = [];
    const { port } = await start({
      routes: (req, res, body) => {
        seen.push(`${req.method} ${req.url}`);
        if (req.url === '/echo') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ got: body.toString() }));
          return true;
        }
        if (req.url === '/boom') throw new Error('kaput');
        return false;
      },
    });
    const echo = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: 'hello' });
    expect(echo.status).toBe(200);
    expect(await echo.json()).toEqual({ got: 'hello' });

    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);

    const boom = await fetch(`http://127.0.0.1:${port}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).toContain('kaput');

    // Built-in paths never reach routes.
    await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(seen).toEqual(['POST /echo', 'GET /other', 'GET /boom']);
    // Still alive after the throw.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('rejects a declared body over 1 MiB with 413 without calling routes', async () => {
    let called = false;
    const { port } = await start({
      routes: () => {
        called = true;
        return false;
      },
    });
    const res = await request(port, {
      method: 'POST',
      path: '/upload',
      headers: { 'content-length': MAX_REQUEST_BODY_BYTES + 1 },
    }).catch((e: Error) => e);
    expect(res).not.toBeInstanceOf(Error);
    expect((res as { status: number }).status).toBe(413);
    expect(called).toBe(false);
  });

  it('rejects a chunked body that grows over 1 MiB with 413, and accepts one just under', async () => {
    const sizes: number[] = [];
    const { port } = await start({
      routes: (_req, res, body) => {
        sizes.push(body.length);
        res.end('fine');
        return true;
      },
    });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const under = await request(port, {
      method: 'POST',
      path: '/upload',
      headers: { 'transfer-encoding': 'chunked' },
      body: Array.from({ length: 16 }, () => chunk), // exactly 1 MiB
    });
    expect(under.status).toBe(200);
    expect(sizes).toEqual([MAX_REQUEST_BODY_BYTES]);

    const over = await request(port, {
      method: 'POST',
      path: '/upload',
      headers: { 'transfer-encoding': 'chunked' },
      body: Array.from({ length: 17 }, () => chunk),
    }).catch((e: Error) => e);
    // The server stops reading after the limit: the client either reads the 413 or sees the connection cut.
    if (over instanceof Error) expect((over as NodeJS.ErrnoException).code).toMatch(/ECONNRESET|EPIPE/);
    else expect(over.status).toBe(413);
    expect(sizes).toEqual([MAX_REQUEST_BODY_BYTES]);
  });

  it('sets server timeouts so slow clients cannot hold connections forever', async () => {
    const { server } = await start();
    for (const value of [server.headersTimeout, server.requestTimeout, server.keepAliveTimeout, server.timeout]) {
      expect(value).toBeGreaterThan(0);
      expect(value).toBeLessThanOrEqual(60_000);
    }
  });

  it('close() stops listening, even with an idle keep-alive connection open', async () => {
    const handle = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      health: new HealthState(),
      registry: new Registry(),
      drainTimeoutMs: 10_000,
    });
    const socket = net.connect(handle.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const t0 = Date.now();
    await handle.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    await expect(fetch(`http://127.0.0.1:${handle.port}/healthz`)).rejects.toThrow();
    socket.destroy();
    await handle.close(); // idempotent
  });
});
