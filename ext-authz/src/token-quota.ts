// Token quotas: ext-authz charges the request's estimated LLM tokens to the rate-limit service
// itself, before the request is sent (Envoy's rate-limit filter in the Envoy API we target has no
// per-descriptor hits_addend, and only ext-authz knows the estimate). One ShouldRateLimit call
// per request carries every token descriptor of the route, with hits_addend = the estimate.
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  RateLimitRequestSchema,
  type RateLimitResponse,
  RateLimitResponse_Code,
  RateLimitService,
} from '../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { grpcServiceDefinition } from '../../common/service-runtime/index.js';

export interface TokenCharge {
  over: boolean;
  /** RateLimit-style headers describing the quota that decided (for the 429 response). */
  headers: [string, string][];
  /** The limit's descriptor path that was exceeded, e.g. "limit=tenant-tokens-per-minute, tenant=hr". */
  exceeded?: string;
}

export class TokenQuotaUnavailable extends Error {}

type Descriptor = { key: string; value: string }[];

export class TokenQuota {
  private readonly client: grpc.Client & {
    ShouldRateLimit(
      req: unknown,
      opts: grpc.CallOptions,
      cb: (e: grpc.ServiceError | null, r: RateLimitResponse) => void,
    ): void;
  };

  constructor(
    address: string,
    private readonly timeoutMs: number,
  ) {
    const Client = grpc.makeGenericClientConstructor(grpcServiceDefinition(RateLimitService), 'RateLimitService');
    this.client = new Client(address, grpc.credentials.createInsecure()) as unknown as typeof this.client;
  }

  async charge(domain: string, descriptors: Descriptor[], tokens: number): Promise<TokenCharge> {
    const req = create(RateLimitRequestSchema, {
      domain,
      descriptors: descriptors.map((entries) => ({ entries })),
      hitsAddend: tokens,
    });
    const res = await new Promise<RateLimitResponse>((resolve, reject) =>
      this.client.ShouldRateLimit(req, { deadline: Date.now() + this.timeoutMs }, (e, r) =>
        e ? reject(new TokenQuotaUnavailable(`rate-limit service: ${e.details || e.message}`)) : resolve(r),
      ),
    );
    const overIndex = res.statuses.findIndex((s) => s.code === RateLimitResponse_Code.OVER_LIMIT);
    if (res.overallCode !== RateLimitResponse_Code.OVER_LIMIT || overIndex < 0) return { over: false, headers: [] };
    const s = res.statuses[overIndex];
    const reset = String(Number(s.durationUntilReset?.seconds ?? 0n));
    return {
      over: true,
      exceeded: descriptors[overIndex].map((e) => `${e.key}=${e.value}`).join(', '),
      headers: [
        ['ratelimit-limit', String(s.currentLimit?.requestsPerUnit ?? 0)],
        ['ratelimit-remaining', String(s.limitRemaining)],
        ['ratelimit-reset', reset],
        ['retry-after', reset],
      ],
    };
  }

  close(): void {
    this.client.close();
  }
}
