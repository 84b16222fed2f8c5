import http2 from 'node:http2';
import net from 'node:net';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { service as healthServiceDefinition } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RateLimitRequestSchema,
  RateLimitResponse_Code,
  RateLimitService,
} from '../envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { GRPC_SERVER_DEFAULTS, type GrpcServerHandle, startGrpcServer } from './grpc-server.js';
import { grpcServiceDefinition, rawBytesDefinition } from './grpc-service.js';
import { HealthState } from './health-state.js';

const RLS = 'envoy.service.ratelimit.v3.RateLimitService';
const rlsDefinition = grpcServiceDefinition(RateLimitService);

type Callback = (e: grpc.ServiceError | null, res: unknown) => void;
type UnaryMethod = (req: unknown, options: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall;
type AnyClient = grpc.Client & Record<string, UnaryMethod & ((req: unknown) => grpc.ClientReadableStream<unknown>)>;

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function start(
  health: HealthState,
  implementation: grpc.UntypedServiceImplementation = okImplementation(),
  extra: Partial<Parameters<typeof startGrpcServer>[0]> = {},
): Promise<GrpcServerHandle> {
  const handle = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    services: [{ definition: rlsDefinition, implementation }],
    health,
    ...extra,
  });
  cleanups.push(() => handle.close());
  return handle;
}

function okImplementation(): grpc.UntypedServiceImplementation {
  return {
    shouldRateLimit: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, { overallCode: RateLimitResponse_Code.OK }),
  };
}

function newClient(definition: grpc.ServiceDefinition, port: number): AnyClient {
  const Ctor = grpc.makeGenericClientConstructor(definition, 'C');
  const c = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  cleanups.push(() => c.close());
  return c as AnyClient;
}

function healthClient(port: number): AnyClient {
  return newClient(healthServiceDefinition as unknown as grpc.ServiceDefinition, port);
}

function call(c: AnyClient, method: string, request: unknown, deadlineMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    c[method](request, { deadline: Date.now() + deadlineMs }, (e, res) => (e ? reject(e) : resolve(res)));
  });
}

function callError(c: AnyClient, method: string, request: unknown, deadlineMs = 5000): Promise<grpc.ServiceError> {
  return call(c, method, request, deadlineMs).then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: grpc.ServiceError) => e,
  );
}

async function check(c: AnyClient, service: string): Promise<string> {
  const res = (await call(c, 'Check', { service })) as { status: string };
  return res.status;
}

describe('startGrpcServer', () => {
  it('listens on a free port when given 0 and serves the registered services', async () => {
    const health = new HealthState();
    const handle = await start(health);
    expect(handle.port).toBeGreaterThan(0);
    const c = newClient(rlsDefinition, handle.port);
    const res = (await call(c, 'ShouldRateLimit', create(RateLimitRequestSchema, { domain: 'x' }))) as {
      overallCode: number;
    };
    expect(res.overallCode).toBe(RateLimitResponse_Code.OK);
  });

  it('serves grpc.health.v1 Check following the HealthState', async () => {
    const health = new HealthState({ [RLS]: true });
    const handle = await start(health);
    const c = healthClient(handle.port);

    // Not ready yet: the overall state starts not serving, and so does every named service.
    expect(await check(c, '')).toBe('NOT_SERVING');
    expect(await check(c, RLS)).toBe('NOT_SERVING');

    health.setServing('', true);
    expect(await check(c, '')).toBe('SERVING');
    expect(await check(c, RLS)).toBe('SERVING');

    health.setServing(RLS, false);
    expect(await check(c, '')).toBe('SERVING');
    expect(await check(c, RLS)).toBe('NOT_SERVING');

    // A service declared after start is picked up; an undeclared one is NOT_FOUND.
    health.setServing('other.Service', true);
    expect(await check(c, 'other.Service')).toBe('SERVING');
    const notFound = await callError(c, 'Check', { service: 'no.such.Service' });
    expect(notFound.code).toBe(grpc.status.NOT_FOUND);
  });

  it('streams health changes on Watch, and close() ends open watches without waiting for the drain timeout', async () => {
    const health = new HealthState();
    const handle = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [], health, drainTimeoutMs: 20_000 });
    cleanups.push(() => handle.close());
    const c = healthClient(handle.port);
    const stream = c.Watch({ service: '' });
    const seen: string[] = [];
    const ended = new Promise<grpc.StatusObject>((resolve) => {
      stream.on('data', (m: unknown) => seen.push((m as { status: string }).status));
      stream.on('error', () => {});
      stream.on('status', resolve);
    });
    await waitFor(() => seen.length === 1);
    health.setServing('', true);
    await waitFor(() => seen.length === 2);
    health.setServing('other.Service', true); // does not change '': no message
    await sleep(50);
    health.setServing('', false, 'draining');
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual(['NOT_SERVING', 'SERVING', 'NOT_SERVING']);

    const t0 = Date.now();
    await handle.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    const status = await ended;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('reports SERVICE_UNKNOWN on Watch for a service not declared yet, then follows it once declared', async () => {
    const health = new HealthState();
    health.setServing('', true);
    const handle = await start(health);
    const c = healthClient(handle.port);
    const stream = c.Watch({ service: 'later.Service' });
    cleanups.push(() => stream.cancel());
    const seen: string[] = [];
    stream.on('data', (m: unknown) => seen.push((m as { status: string }).status));
    stream.on('error', () => {});
    await waitFor(() => seen.length === 1);
    health.setServing('later.Service', true);
    await waitFor(() => seen.length === 2);
    expect(seen).toEqual(['SERVICE_UNKNOWN', 'SERVING']);
  });

  it('answers a health request that is not a HealthCheckRequest INTERNAL, and keeps serving', async () => {
    const handle = await start(new HealthState());
    const raw = newClient(rawBytesDefinition({ Check: '/grpc.health.v1.Health/Check' }), handle.port);
    const e = await callError(raw, 'Check', Buffer.from([0x0a, 0x05, 0x61])); // string longer than the message
    expect(e.code).toBe(grpc.status.INTERNAL);
    expect(await check(healthClient(handle.port), '')).toBe('NOT_SERVING');
  });

  it('close() lets an in-flight call finish, then refuses new calls', async () => {
    const health = new HealthState();
    const started = deferred();
    let release = () => {};
    const handle = await start(health, {
      ShouldRateLimit: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        release = () => cb(null, { overallCode: RateLimitResponse_Code.OVER_LIMIT });
        started.resolve();
      },
    });

    const c = newClient(rlsDefinition, handle.port);
    const inFlight = call(c, 'ShouldRateLimit', create(RateLimitRequestSchema, { domain: 'x' }));
    await started.promise;
    let closed = false;
    const closing = handle.close().then(() => {
      closed = true;
    });
    await sleep(100);
    expect(closed).toBe(false); // still draining
    release();
    const res = (await inFlight) as { overallCode: number };
    expect(res.overallCode).toBe(RateLimitResponse_Code.OVER_LIMIT);
    await closing;
    expect(closed).toBe(true);

    const c2 = newClient(rlsDefinition, handle.port);
    const refused = await callError(c2, 'ShouldRateLimit', create(RateLimitRequestSchema, { domain: 'x' }), 1000);
    expect([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]).toContain(refused.code);
    await handle.close(); // idempotent
  });

  it('close() cancels calls still running after drainTimeoutMs', async () => {
    const health = new HealthState();
    const handle = await start(
      health,
      { ShouldRateLimit: () => {} }, // never answers
      { drainTimeoutMs: 200 },
    );
    const c = newClient(rlsDefinition, handle.port);
    const stuck = callError(c, 'ShouldRateLimit', create(RateLimitRequestSchema, { domain: 'x' }), 10_000);
    await sleep(100);
    const t0 = Date.now();
    await handle.close();
    expect(Date.now() - t0).toBeLessThan(2000);
    const e = await stuck;
    expect([grpc.status.CANCELLED, grpc.status.UNAVAILABLE, grpc.status.INTERNAL]).toContain(e.code);
  });

  it('rejects requests larger than maxReceiveMessageBytes with RESOURCE_EXHAUSTED', async () => {
    const health = new HealthState();
    const handle = await start(health, okImplementation(), { maxReceiveMessageBytes: 1024 });
    const c = newClient(rlsDefinition, handle.port);
    const small = (await call(c, 'ShouldRateLimit', create(RateLimitRequestSchema, { domain: 'a'.repeat(500) }))) as {
      overallCode: number;
    };
    expect(small.overallCode).toBe(RateLimitResponse_Code.OK);
    const e = await callError(c, 'ShouldRateLimit', create(RateLimitRequestSchema, { domain: 'a'.repeat(2000) }));
    expect(e.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('announces a high stream limit to each connection (Envoy multiplexes every call on a few)', async () => {
    const handle = await start(new HealthState());
    const session = http2.connect(`http://127.0.0.1:${handle.port}`);
    cleanups.push(() => new Promise<void>((resolve) => session.close(() => resolve())));
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
    expect(session.remoteSettings.maxConcurrentStreams).toBe(GRPC_SERVER_DEFAULTS.maxConcurrentStreams);
  });

  it('drops a connection that does not answer its keepalive PING, and keeps one that does', async () => {
    const handle = await start(new HealthState(), okImplementation(), { keepaliveTimeMs: 50, keepaliveTimeoutMs: 100 });
    // A peer that speaks the HTTP/2 preface and then goes silent (acknowledges nothing).
    const silent = net.connect(handle.port, '127.0.0.1');
    cleanups.push(() => {
      silent.destroy();
    });
    silent.on('error', () => {});
    silent.resume();
    silent.write(
      Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]),
    );
    const closedAfter = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      silent.once('close', () => resolve(Date.now() - t0));
    });
    expect(closedAfter).toBeLessThan(2000);
    // node's client acknowledges PINGs: its connection outlives several keepalive rounds.
    const session = http2.connect(`http://127.0.0.1:${handle.port}`);
    let dropped = false;
    session.on('close', () => {
      dropped = true;
    });
    session.on('error', () => {});
    cleanups.push(() => new Promise<void>((resolve) => session.close(() => resolve())));
    await sleep(400);
    expect(dropped).toBe(false);
  });

  it('lets a call finish during close() although keepalive PINGs fall due meanwhile', async () => {
    let release = () => {};
    const started = deferred();
    const handle = await start(
      new HealthState(),
      {
        ShouldRateLimit: (_call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
          release = () => cb(null, { overallCode: RateLimitResponse_Code.OK });
          started.resolve();
        },
      },
      { keepaliveTimeMs: 30, keepaliveTimeoutMs: 1000, drainTimeoutMs: 5000 },
    );
    const c = newClient(rlsDefinition, handle.port);
    const inFlight = call(c, 'ShouldRateLimit', create(RateLimitRequestSchema, { domain: 'x' }));
    await started.promise;
    const closing = handle.close();
    await sleep(1300); // past the GOAWAY grace: the session is closing, keepalive ticks ~40 times
    release();
    const res = (await inFlight) as { overallCode: number };
    expect(res.overallCode).toBe(RateLimitResponse_Code.OK);
    await closing;
  });

  it('refuses a streaming method at start: only unary calls are served', async () => {
    const streaming = { ...rlsDefinition.ShouldRateLimit, responseStream: true };
    await expect(
      startGrpcServer({
        host: '127.0.0.1',
        port: 0,
        services: [{ definition: { ShouldRateLimit: streaming }, implementation: okImplementation() }],
        health: new HealthState(),
      }),
    ).rejects.toThrow(/ShouldRateLimit is a streaming method/);
  });

  it('rejects when the port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as net.AddressInfo).port;
    await expect(startGrpcServer({ host: '127.0.0.1', port, services: [], health: new HealthState() })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+/,
    );
  });
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for condition');
    await sleep(10);
  }
}
