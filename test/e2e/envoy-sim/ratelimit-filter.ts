// The rate limit HTTP filter (envoy.filters.http.ratelimit) with a gRPC rate limit service, after
// Envoy's ratelimit.cc and common/ratelimit/ratelimit_impl.cc.
//
// - request_type: "external" skips requests carrying x-envoy-internal: true, "internal" the others
//   ("both"/empty: all).
// - The CURRENT route (after any ext_authz re-route) must be a route entry with a known cluster;
//   its `rate_limits` of the filter's stage make the descriptors (rate-limit-descriptors.ts), plus
//   the virtual host's when the route has none (or include_vh_rate_limits). No descriptor: no call.
// - ShouldRateLimit {domain, descriptors, hits_addend 0} with the filter's `timeout` (default 20ms).
// - OVER_LIMIT: 429 (rate_limited_status) local reply with the service's raw_body, its
//   response_headers_to_add, x-envoy-ratelimited: true (unless disable_x_envoy_ratelimited_header)
//   and, with enable_x_ratelimit_headers DRAFT_VERSION_03, the X-RateLimit-* headers.
// - OK (or UNKNOWN): the request goes on; the service's request_headers_to_add are added to the
//   request, its response_headers_to_add and the X-RateLimit-* headers to the response.
// - gRPC error or timeout: failure_mode_deny → status_on_error (default 500), else go on.
import { create, type JsonObject } from '@bufbuild/protobuf';
import { ApiVersion } from '../../../common/envoy-api/gen/envoy/config/core/v3/config_source_pb.js';
import type { RateLimit as RateLimitFilterConfig } from '../../../common/envoy-api/gen/envoy/extensions/filters/http/ratelimit/v3/rate_limit_pb.js';
import { RateLimit_XRateLimitHeadersRFCVersion } from '../../../common/envoy-api/gen/envoy/extensions/filters/http/ratelimit/v3/rate_limit_pb.js';
import {
  type RateLimitRequest,
  RateLimitRequestSchema,
  type RateLimitResponse,
  RateLimitResponse_Code,
  RateLimitService,
} from '../../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { durationMs, SimConfigError, SimUnsupportedError } from './bootstrap.js';
import { type Endpoint, grpcErrorText, UnaryClient } from './grpc-client.js';
import { HeaderMap } from './header-map.js';
import { localReply, type Reply } from './local-reply.js';
import { buildDescriptors, type Descriptor } from './rate-limit-descriptors.js';
import { mergeDynamicMetadata, type StreamState } from './stream.js';
import type { SimResult } from './types.js';
import { xRateLimitHeaders } from './x-ratelimit-headers.js';

export const ratelimitNamespace = 'envoy.filters.http.ratelimit';

export interface RateLimitOutcome {
  reply?: Reply;
  result: NonNullable<SimResult['ratelimit']>;
}

/** The descriptors the filter sends for the stream's current route, or why it sends none. */
export function filterDescriptors(
  config: RateLimitFilterConfig,
  state: StreamState,
  localServiceCluster: string,
  clusterExists: (name: string) => boolean,
): { descriptors: Descriptor[]; skipped?: string } {
  const internal = state.headers.get('x-envoy-internal') === 'true';
  const type = config.requestType || 'both';
  if ((type === 'external' && internal) || (type === 'internal' && !internal))
    return { descriptors: [], skipped: `${internal ? 'internal' : 'external'} request (request_type: ${type})` };
  const sel = state.route;
  if (!sel) return { descriptors: [], skipped: 'no route' };
  if (sel.route.action.case !== 'route' || !sel.choice) return { descriptors: [], skipped: 'not a route entry' };
  if (!clusterExists(sel.choice.name)) return { descriptors: [], skipped: 'unknown cluster' };
  const ra = sel.route.action.value;
  const ctx = {
    headers: state.headers,
    remoteAddress: state.client.remoteAddress,
    dynamicMetadata: state.dynamicMetadata,
    routeMetadata: sel.route.metadata?.filterMetadata,
    localServiceCluster,
    routeCluster: sel.choice.name,
  };
  const descriptors = buildDescriptors(ra.rateLimits, config.stage, ctx);
  if (ra.includeVhRateLimits || ra.rateLimits.length === 0)
    descriptors.push(...buildDescriptors(sel.virtualHost.rateLimits, config.stage, ctx));
  return descriptors.length ? { descriptors } : { descriptors, skipped: 'no descriptors' };
}

export class RateLimitFilter {
  private readonly client: UnaryClient<RateLimitRequest, RateLimitResponse>;
  readonly timeoutMs: number;

  constructor(
    readonly name: string,
    readonly config: RateLimitFilterConfig,
    endpoint: Endpoint,
    readonly clusterName: string,
    private readonly localServiceCluster: string,
  ) {
    const where = `http filter ${name}`;
    const svc = config.rateLimitService;
    if (!svc?.grpcService) throw new SimConfigError(`${where}: rate_limit_service is required`);
    if (svc.grpcService.targetSpecifier.case !== 'envoyGrpc') throw new SimUnsupportedError(where, 'google_grpc');
    if (svc.transportApiVersion !== ApiVersion.V3)
      throw new SimConfigError(`${where}: rate_limit_service.transport_api_version must be V3`);
    if (config.responseHeadersToAdd.length) throw new SimUnsupportedError(where, 'response_headers_to_add');
    if (config.rateLimitedAsResourceExhausted)
      throw new SimUnsupportedError(where, 'rate_limited_as_resource_exhausted');
    if (!['', 'both', 'internal', 'external'].includes(config.requestType))
      throw new SimConfigError(`${where}: request_type "${config.requestType}"`);
    this.timeoutMs = durationMs(config.timeout, 20);
    this.client = new UnaryClient(RateLimitService, 'ShouldRateLimit', endpoint, clusterName);
  }

  close(): void {
    this.client.close();
  }

  async decode(state: StreamState, clusterExists: (name: string) => boolean): Promise<RateLimitOutcome> {
    const c = this.config;
    const { descriptors, skipped } = filterDescriptors(c, state, this.localServiceCluster, clusterExists);
    if (!descriptors.length) return { result: { called: false, skipped } };
    const request = create(RateLimitRequestSchema, {
      domain: c.domain,
      descriptors: descriptors.map((entries) => ({ entries })),
      hitsAddend: 0,
    });
    let res: RateLimitResponse;
    try {
      res = await this.client.call(request, this.timeoutMs);
    } catch (e) {
      const error = grpcErrorText(e);
      const result = { called: true, descriptors, error };
      if (c.failureModeDeny) return { reply: localReply(statusOr(c.statusOnError?.code, 500)), result };
      return { result };
    }
    if (res.dynamicMetadata && Object.keys(res.dynamicMetadata).length)
      mergeDynamicMetadata(state, ratelimitNamespace, res.dynamicMetadata as JsonObject);
    const over = res.overallCode === RateLimitResponse_Code.OVER_LIMIT;
    const toAdd = new HeaderMap();
    for (const h of res.responseHeadersToAdd) toAdd.add(h.key, h.value);
    if (over && !c.disableXEnvoyRatelimitedHeader) toAdd.set('x-envoy-ratelimited', 'true');
    if (c.enableXRatelimitHeaders === RateLimit_XRateLimitHeadersRFCVersion.DRAFT_VERSION_03)
      for (const [k, v] of xRateLimitHeaders(res.statuses)) toAdd.add(k, v);
    const result = { called: true, overall: over ? ('OVER_LIMIT' as const) : ('OK' as const), descriptors };
    if (over) {
      const body = Buffer.from(res.rawBody).toString('utf8');
      const status = statusOr(c.rateLimitedStatus?.code, 429, 400);
      return {
        reply: localReply(status, body, (h) => {
          for (const [k, v] of toAdd.entries()) h.add(k, v);
        }),
        result,
      };
    }
    for (const h of res.requestHeadersToAdd) state.headers.add(h.key, h.value);
    if (toAdd.size)
      state.encoders.push((reply) => {
        for (const [k, v] of toAdd.entries()) reply.headers.add(k, v);
      });
    return { result };
  }
}

/** An HttpStatus code if set and at least `min`, else the default. */
function statusOr(code: number | undefined, fallback: number, min = 100): number {
  return code && code >= min && code <= 599 ? code : fallback;
}
