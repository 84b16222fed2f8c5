// startGrpcServer on the wire, driven by a raw node:http2 client that sends what Envoy's gRPC
// client sends (POST, content-type application/grpc, te: trailers, grpc-timeout) and reads what
// Envoy reads back: :status, the framed message, grpc-status/grpc-message in trailers or in a
// Trailers-Only response.
import http2 from 'node:http2';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { RawHttp2Client } from '../../test/support/raw-http2-client.js';
import {
  RateLimitRequestSchema,
  RateLimitResponse_Code,
  RateLimitResponseSchema,
  RateLimitService,
} from '../envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { frameMessage } from './grpc-protocol.js';
import { type GrpcServerHandle, startGrpcServer } from './grpc-server.js';
import { grpcServiceDefinition } from './grpc-service.js';
import { HealthState } from './health-state.js';
import { ErrorCode, Flag, FrameType, rstStreamFrame } from './http2/frames.js';

function deferred() {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const PATH = '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit';
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

type Handler = (call: grpc.ServerUnaryCall<{ domain: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => void;

async function serve(
  handler: Handler,
  extra: Partial<Parameters<typeof startGrpcServer>[0]> = {},
  onHandle: (handle: GrpcServerHandle) => void = () => {},
): Promise<http2.ClientHttp2Session> {
  const handle = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    services: [{ definition: grpcServiceDefinition(RateLimitService), implementation: { ShouldRateLimit: handler } }],
    health: new HealthState(),
    ...extra,
  });
  onHandle(handle);
  cleanups.push(() => handle.close());
  const session = http2.connect(`http://127.0.0.1:${handle.port}`);
  session.on('error', () => {});
  cleanups.push(() => new Promise<void>((resolve) => session.close(() => resolve())));
  return session;
}

interface RawAnswer {
  status: number;
  contentType: string | undefined;
  data: Buffer;
  /** grpc-status / grpc-message from the trailers, or from the headers of a Trailers-Only answer. */
  grpcStatus: string | undefined;
  grpcMessage: string | undefined;
  trailersOnly: boolean;
  acceptEncoding: string | undefined;
}

function rawCall(
  session: http2.ClientHttp2Session,
  body: Buffer,
  headers: http2.OutgoingHttpHeaders = {},
  path = PATH,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': '200m',
      ...headers,
    });
    const chunks: Buffer[] = [];
    let head: http2.IncomingHttpHeaders = {};
    let tail: http2.IncomingHttpHeaders | undefined;
    req.on('response', (h) => {
      head = h;
    });
    req.on('trailers', (t) => {
      tail = t;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('close', () => {
      const source = tail ?? head;
      resolve({
        status: Number(head[':status']),
        contentType: head['content-type'] as string | undefined,
        data: Buffer.concat(chunks),
        grpcStatus: source['grpc-status'] as string | undefined,
        grpcMessage: source['grpc-message'] as string | undefined,
        trailersOnly: tail === undefined,
        acceptEncoding: head['grpc-accept-encoding'] as string | undefined,
      });
    });
    if (!req.writableEnded) req.end(body); // a GET has ended already
  });
}

const request = (domain: string) =>
  Buffer.from(toBinary(RateLimitRequestSchema, create(RateLimitRequestSchema, { domain })));
const ok: Handler = (call, cb) =>
  cb(null, {
    overallCode: call.request.domain === 'deny' ? RateLimitResponse_Code.OVER_LIMIT : RateLimitResponse_Code.OK,
  });

describe('startGrpcServer on the wire', () => {
  it('answers a unary call with :status 200, one framed message and grpc-status 0 in trailers', async () => {
    const session = await serve(ok);
    const a = await rawCall(session, frameMessage(request('deny')));
    expect(a).toMatchObject({ status: 200, contentType: 'application/grpc', grpcStatus: '0', trailersOnly: false });
    expect(a.data[0]).toBe(0); // not compressed
    expect(a.data.readUInt32BE(1)).toBe(a.data.length - 5);
    expect(fromBinary(RateLimitResponseSchema, a.data.subarray(5)).overallCode).toBe(RateLimitResponse_Code.OVER_LIMIT);
  });

  it('reads a message split over several DATA frames', async () => {
    const session = await serve(ok);
    const framed = frameMessage(request('deny'));
    const answer = await new Promise<RawAnswer>((resolve, reject) => {
      const req = session.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc' });
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', reject);
      req.on('trailers', (t) =>
        resolve({
          status: 200,
          contentType: undefined,
          data: Buffer.concat(chunks),
          grpcStatus: t['grpc-status'] as string,
          grpcMessage: undefined,
          trailersOnly: false,
          acceptEncoding: undefined,
        }),
      );
      req.write(framed.subarray(0, 3));
      setTimeout(() => req.end(framed.subarray(3)), 20);
    });
    expect(answer.grpcStatus).toBe('0');
    expect(fromBinary(RateLimitResponseSchema, answer.data.subarray(5)).overallCode).toBe(
      RateLimitResponse_Code.OVER_LIMIT,
    );
  });

  it('answers an unknown method UNIMPLEMENTED, Trailers-Only', async () => {
    const session = await serve(ok);
    const a = await rawCall(session, frameMessage(request('x')), {}, '/no.Such/Method');
    expect(a).toMatchObject({
      status: 200,
      grpcStatus: '12',
      grpcMessage: 'unknown method /no.Such/Method',
      trailersOnly: true,
    });
  });

  it('refuses what is not a gRPC call with the HTTP status gRPC specifies', async () => {
    const session = await serve(ok);
    expect((await rawCall(session, Buffer.alloc(0), { ':method': 'GET' })).status).toBe(405);
    expect((await rawCall(session, frameMessage(request('x')), { 'content-type': 'application/json' })).status).toBe(
      415,
    );
  });

  it.each([
    ['an empty body', Buffer.alloc(0), '13', 'no request message'],
    ['a truncated prefix', Buffer.from([0, 0, 0]), '13', 'truncated message prefix'],
    ['a truncated message', frameMessage(request('x')).subarray(0, 7), '13', 'truncated request message'],
    [
      'a compressed message',
      Buffer.from([1, 0, 0, 0, 0]),
      '12',
      'compressed messages are not supported (grpc-encoding: identity)',
    ],
    [
      'two messages',
      Buffer.concat([frameMessage(request('a')), frameMessage(request('b'))]),
      '12',
      'more than one request message',
    ],
  ])('answers %s with a status, without calling the handler', async (_what, body, code, message) => {
    let called = 0;
    const session = await serve((call, cb) => {
      called++;
      ok(call, cb);
    });
    const a = await rawCall(session, body);
    expect(a).toMatchObject({ status: 200, grpcStatus: code, grpcMessage: message, trailersOnly: true });
    expect(a.acceptEncoding).toBe('identity'); // what a client that compressed may send instead
    expect(called).toBe(0);
    expect((await rawCall(session, frameMessage(request('a')))).grpcStatus).toBe('0'); // same connection still serves
  });

  it('stops at maxReceiveMessageBytes with RESOURCE_EXHAUSTED', async () => {
    let called = 0;
    const session = await serve(
      (call, cb) => {
        called++;
        ok(call, cb);
      },
      { maxReceiveMessageBytes: 64 },
    );
    const a = await rawCall(session, frameMessage(request('a'.repeat(5000))));
    expect(a).toMatchObject({ grpcStatus: '8', grpcMessage: 'request message larger than 64 bytes' });
    expect(called).toBe(0);
    const exact = frameMessage(request('a'.repeat(62))); // a 64-byte message: tag, length and 62
    const b = await rawCall(session, exact);
    expect(b.grpcStatus).toBe('0');
    expect(called).toBe(1);
  });

  it('answers RESOURCE_EXHAUSTED when the calls being read together hold more than maxBufferedRequestBytes', async () => {
    const session = await serve(ok, { maxReceiveMessageBytes: 1000, maxBufferedRequestBytes: 2000 });
    const framed = frameMessage(request('a'.repeat(900)));
    // Two calls send most of their message and wait; a third goes beyond the budget.
    const open = [0, 1].map(() => {
      const req = session.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc' });
      req.on('error', () => {});
      req.resume();
      req.write(framed.subarray(0, 900));
      return req;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const third = await rawCall(session, framed);
    expect(third).toMatchObject({ grpcStatus: '8', grpcMessage: 'server busy: too many request bytes in flight' });
    // Once they are done, the budget is free again.
    for (const req of open) req.end(framed.subarray(900));
    await Promise.all(open.map((req) => new Promise((resolve) => req.once('close', resolve))));
    expect((await rawCall(session, framed)).grpcStatus).toBe('0');
  });

  it('answers DEADLINE_EXCEEDED to a call whose request is not complete within requestReadTimeoutMs, freeing what it held', async () => {
    const session = await serve(ok, {
      requestReadTimeoutMs: 100,
      maxReceiveMessageBytes: 1000,
      maxBufferedRequestBytes: 2000,
    });
    const framed = frameMessage(request('x'.repeat(990)));
    // Two calls that hold 1,800 octets of the 2,000 and never finish.
    const stalled = [0, 1].map(() => {
      const req = session.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc' });
      req.on('error', () => {});
      req.write(framed.subarray(0, 900));
      return new Promise<http2.IncomingHttpHeaders>((resolve) => req.once('response', resolve));
    });
    for (const head of await Promise.all(stalled)) {
      expect(head['grpc-status']).toBe('4');
      expect(head['grpc-message']).toBe('request not received within 100 ms');
    }
    expect((await rawCall(session, framed)).grpcStatus).toBe('0');
  });

  it('takes application/grpc+proto and parameters; refuses grpc-web and other codecs with 415', async () => {
    const session = await serve(ok);
    const body = frameMessage(request('a'));
    expect((await rawCall(session, body, { 'content-type': 'application/grpc+proto' })).grpcStatus).toBe('0');
    expect((await rawCall(session, body, { 'content-type': 'application/grpc; charset=utf-8' })).grpcStatus).toBe('0');
    expect((await rawCall(session, body, { 'content-type': 'application/grpc-web' })).status).toBe(415);
    expect((await rawCall(session, body, { 'content-type': 'application/grpc+json' })).status).toBe(415);
  });

  it('cuts a long grpc-message to 1024 characters', async () => {
    const session = await serve((_call, cb) => cb({ code: 9, details: 'x'.repeat(70_000) }));
    const a = await rawCall(session, frameMessage(request('a')));
    expect(a.grpcStatus).toBe('9');
    expect(a.grpcMessage).toHaveLength(1024 - 1 + '%E2%80%A6'.length);
    expect(a.grpcMessage?.endsWith('%E2%80%A6')).toBe(true);
  });

  it('survives a Watch (or any call) whose client ends and resets it in one go', async () => {
    const session = await serve(ok);
    const health = Buffer.from([0, 0, 0, 0, 0]); // an empty HealthCheckRequest: service ''
    for (let i = 0; i < 50; i++) {
      for (const path of ['/grpc.health.v1.Health/Watch', PATH]) {
        const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc' });
        req.on('error', () => {});
        req.end(path === PATH ? frameMessage(request('a')) : health);
        req.close(http2.constants.NGHTTP2_CANCEL);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await rawCall(session, frameMessage(request('a')))).grpcStatus).toBe('0');
  });

  it('answers a handler error with its code and a percent-encoded grpc-message; a throw is INTERNAL', async () => {
    const session = await serve((call, cb) => {
      if (call.request.domain === 'throw') throw new Error('boom');
      cb({ code: 14, details: 'naïve 100% down\n' });
    });
    const a = await rawCall(session, frameMessage(request('x')));
    expect(a).toMatchObject({ grpcStatus: '14', grpcMessage: 'na%C3%AFve 100%25 down%0A', trailersOnly: true });
    const thrown = await rawCall(session, frameMessage(request('throw')));
    expect(thrown).toMatchObject({ grpcStatus: '13', grpcMessage: 'boom' });
  });

  it('drops the answer of a call its client reset, and keeps serving the connection', async () => {
    let answerLate: () => void = () => {};
    const called = deferred();
    let handle: GrpcServerHandle | undefined;
    await serve(
      (call, cb) => {
        if (call.request.domain === 'slow') {
          answerLate = () => ok(call, cb);
          called.resolve();
        } else ok(call, cb);
      },
      {},
      (h) => {
        handle = h;
      },
    );
    const client = await RawHttp2Client.connect(handle!.port);
    cleanups.push(() => client.close());
    const answered = (id: number) => () =>
      client.frames.find((f) => f.streamId === id && f.type === FrameType.HEADERS && f.flags & Flag.END_STREAM);
    client.send(client.headersFrame(1, [[':path', PATH]]), client.dataFrame(1, frameMessage(request('slow'))));
    await called.promise;
    client.send(rstStreamFrame(1, ErrorCode.CANCEL));
    // Frames are read in order: once stream 3 is answered, the server has seen the reset.
    client.send(client.headersFrame(3, [[':path', PATH]]), client.dataFrame(3, frameMessage(request('a'))));
    await client.waitFor(answered(3));
    answerLate(); // must neither throw nor write to the closed stream
    client.send(client.headersFrame(5, [[':path', PATH]]), client.dataFrame(5, frameMessage(request('a'))));
    const last = await client.waitFor(answered(5));
    expect(last.headers).toContainEqual(['grpc-status', '0']);
    expect(client.frames.filter((f) => f.streamId === 1)).toEqual([]);
  });
});
