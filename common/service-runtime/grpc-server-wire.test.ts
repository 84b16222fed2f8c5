// startGrpcServer on the wire, driven by a raw node:http2 client that sends what Envoy's gRPC
// client sends (POST, content-type application/grpc, te: trailers, grpc-timeout) and reads what
// Envoy reads back: :status, the framed message, grpc-status/grpc-message in trailers or in a
// Trailers-Only response.
import http2 from 'node:http2';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RateLimitRequestSchema,
  RateLimitResponse_Code,
  RateLimitResponseSchema,
  RateLimitService,
} from '../envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { frameMessage } from './grpc-protocol.js';
import { startGrpcServer } from './grpc-server.js';
import { grpcServiceDefinition } from './grpc-service.js';
import { HealthState } from './health-state.js';

const PATH = '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit';
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

type Handler = (call: grpc.ServerUnaryCall<{ domain: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => void;

async function serve(handler: Handler, maxReceiveMessageBytes?: number): Promise<http2.ClientHttp2Session> {
  const handle = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    services: [{ definition: grpcServiceDefinition(RateLimitService), implementation: { ShouldRateLimit: handler } }],
    health: new HealthState(),
    maxReceiveMessageBytes,
  });
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
    expect(called).toBe(0);
    expect((await rawCall(session, frameMessage(request('a')))).grpcStatus).toBe('0'); // same connection still serves
  });

  it('stops at maxReceiveMessageBytes with RESOURCE_EXHAUSTED', async () => {
    let called = 0;
    const session = await serve((call, cb) => {
      called++;
      ok(call, cb);
    }, 64);
    const a = await rawCall(session, frameMessage(request('a'.repeat(5000))));
    expect(a).toMatchObject({ grpcStatus: '8', grpcMessage: 'request message larger than 64 bytes' });
    expect(called).toBe(0);
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
    const session = await serve((call, cb) => {
      if (call.request.domain === 'slow') answerLate = () => ok(call, cb);
      else ok(call, cb);
    });
    const req = session.request({ ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc' });
    req.on('error', () => {});
    req.end(frameMessage(request('slow')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.close(http2.constants.NGHTTP2_CANCEL);
    await new Promise((resolve) => req.once('close', resolve));
    answerLate(); // must neither throw nor write to the closed stream
    expect((await rawCall(session, frameMessage(request('a')))).grpcStatus).toBe('0');
  });
});
