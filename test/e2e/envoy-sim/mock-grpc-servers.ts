// MOCK side services for the simulator's OWN tests: tiny gRPC servers that record what the
// simulator sends (the wire) and answer with scripted responses. They implement no policy and no
// counting: scenario tests of the gateway must run the real ext-authz and ratelimit-service.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  Authorization,
  type CheckRequest,
  type CheckResponse,
  CheckResponseSchema,
  OkHttpResponseSchema,
} from '../../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import {
  type RateLimitRequest,
  type RateLimitResponse,
  RateLimitResponse_Code,
  RateLimitResponseSchema,
  RateLimitService,
} from '../../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { StatusSchema } from '../../../common/envoy-api/gen/google/rpc/status_pb.js';
import { grpcServiceDefinition } from '../../../common/service-runtime/index.js';

/** What a mock does with a call: a response, a gRPC error status, or a delay before either. */
export type MockReply<R> = R | { error: grpc.status } | { delayMs: number; answer: R | { error: grpc.status } };

export interface MockServer<Req, Res> {
  port: number;
  /** Every request received, in order. */
  requests: Req[];
  /** The scripted answer for the next calls. */
  reply: (req: Req) => MockReply<Res>;
  close(): Promise<void>;
}

async function startMock<Req, Res>(
  definition: grpc.ServiceDefinition,
  method: string,
  reply: (req: Req) => MockReply<Res>,
): Promise<MockServer<Req, Res>> {
  const server = new grpc.Server();
  const mock: MockServer<Req, Res> = {
    port: 0,
    requests: [],
    reply,
    close: () =>
      new Promise((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      }),
  };
  server.addService(definition, {
    [method]: (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => {
      mock.requests.push(call.request);
      const answer = (r: MockReply<Res>) => {
        if (r && typeof r === 'object' && 'delayMs' in r) {
          setTimeout(() => answer(r.answer), r.delayMs);
          return;
        }
        if (r && typeof r === 'object' && 'error' in r) cb({ code: r.error, details: 'mock error' }, null);
        else cb(null, r as Res);
      };
      answer(mock.reply(call.request));
    },
  });
  mock.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) =>
      e ? reject(e) : resolve(port),
    ),
  );
  return mock;
}

export type MockAuthz = MockServer<CheckRequest, CheckResponse>;
export type MockRateLimit = MockServer<RateLimitRequest, RateLimitResponse>;

/** An OK CheckResponse (status 0, an empty ok_response unless `init` gives one). */
export function allowAll(init: MessageInitShape<typeof CheckResponseSchema> = {}): CheckResponse {
  const r = create(CheckResponseSchema, init);
  r.status ??= create(StatusSchema, { code: 0 });
  if (r.httpResponse.case === undefined) r.httpResponse = { case: 'okResponse', value: create(OkHttpResponseSchema) };
  return r;
}

/** A RateLimitResponse, OK unless `init` says otherwise. */
export function rateLimitOk(init: MessageInitShape<typeof RateLimitResponseSchema> = {}): RateLimitResponse {
  const r = create(RateLimitResponseSchema, init);
  if (r.overallCode === RateLimitResponse_Code.UNKNOWN) r.overallCode = RateLimitResponse_Code.OK;
  return r;
}

export function startMockAuthz(reply: MockAuthz['reply'] = () => allowAll()): Promise<MockAuthz> {
  return startMock(grpcServiceDefinition(Authorization), 'Check', reply);
}

export function startMockRateLimit(reply: MockRateLimit['reply'] = () => rateLimitOk()): Promise<MockRateLimit> {
  return startMock(grpcServiceDefinition(RateLimitService), 'ShouldRateLimit', reply);
}
