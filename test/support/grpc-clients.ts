// gRPC clients that call our services exactly as Envoy does: the generated protobuf-es messages
// over real HTTP/2 on loopback.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  Authorization,
  type CheckRequest,
  type CheckResponse,
} from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import {
  RateLimitRequestSchema,
  type RateLimitResponse,
  RateLimitService,
} from '../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { grpcServiceDefinition } from '../../common/service-runtime/index.js';

export interface RateLimitClient {
  shouldRateLimit(
    init: MessageInitShape<typeof RateLimitRequestSchema>,
    deadlineMs?: number,
  ): Promise<RateLimitResponse>;
  healthCheck(service?: string): Promise<string>;
  close(): void;
}

const healthDefinition: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    // HealthCheckRequest { string service = 1 }
    requestSerialize: (service: string) => {
      const b = Buffer.from(service);
      return b.length ? Buffer.concat([Buffer.from([0x0a, b.length]), b]) : Buffer.alloc(0);
    },
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    // HealthCheckResponse { ServingStatus status = 1 }: 1 SERVING, 2 NOT_SERVING
    responseDeserialize: (b: Buffer) =>
      b.length >= 2 && b[0] === 0x08
        ? (['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'][b[1]] ?? 'UNKNOWN')
        : 'UNKNOWN',
  },
};

/**
 * Options for a client with a connection of its own (grpc-js shares one connection between the
 * clients of a target by default): what Envoy's worker threads do, and what spreads calls over
 * the processes of a service run with --workers.
 */
export const ownConnection: grpc.ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };

export function rateLimitClient(port: number, options: grpc.ChannelOptions = {}): RateLimitClient {
  const Rls = grpc.makeGenericClientConstructor(grpcServiceDefinition(RateLimitService), 'RateLimitService');
  const Health = grpc.makeGenericClientConstructor(healthDefinition, 'Health');
  const rls = new Rls(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options);
  const health = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const unary = <T>(client: grpc.Client, method: string, arg: unknown, deadlineMs: number) =>
    new Promise<T>((resolve, reject) => {
      (
        client as unknown as Record<
          string,
          (a: unknown, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: T) => void) => void
        >
      )[method](arg, { deadline: Date.now() + deadlineMs }, (e, r) => (e ? reject(e) : resolve(r)));
    });
  return {
    shouldRateLimit: (init, deadlineMs = 5000) =>
      unary(rls, 'ShouldRateLimit', create(RateLimitRequestSchema, init), deadlineMs),
    healthCheck: (service = '') => unary(health, 'Check', service, 5000),
    close: () => {
      rls.close();
      health.close();
    },
  };
}

export interface AuthzClient {
  check(req: CheckRequest, deadlineMs?: number): Promise<CheckResponse>;
  close(): void;
}

export function authzClient(port: number, options: grpc.ChannelOptions = {}): AuthzClient {
  const Authz = grpc.makeGenericClientConstructor(grpcServiceDefinition(Authorization), 'Authorization');
  const client = new Authz(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), options) as unknown as {
    Check(r: CheckRequest, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: CheckResponse) => void): void;
    close(): void;
  };
  return {
    check: (req, deadlineMs = 5000) =>
      new Promise((resolve, reject) =>
        client.Check(req, { deadline: Date.now() + deadlineMs }, (e, r) => (e ? reject(e) : resolve(r))),
      ),
    close: () => client.close(),
  };
}
