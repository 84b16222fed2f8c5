// The HTTP filter chain, always in this order: ext_authz (fails closed), rate limit, router.
import type { GatewayModel } from '../../model/types.js';
import { protoDuration } from '../durations.js';
import { clusterNames } from '../names.js';
import { filterNames, type Json, typeUrls } from './type-urls.js';

export function httpFilters(model: GatewayModel): Json[] {
  const s = model.services;
  return [
    {
      name: filterNames.extAuthz,
      typed_config: {
        '@type': typeUrls.extAuthz,
        transport_api_version: 'V3',
        grpc_service: {
          envoy_grpc: { cluster_name: clusterNames.extAuthz },
          timeout: protoDuration(s.extAuthz.timeoutMs),
        },
        failure_mode_allow: false,
        status_on_error: { code: 'ServiceUnavailable' },
        clear_route_cache: true,
        include_peer_certificate: false,
      },
    },
    {
      name: filterNames.rateLimit,
      typed_config: {
        '@type': typeUrls.rateLimit,
        domain: s.ratelimit.domain,
        stage: 0,
        // Internal callers (in-cluster apps without X-Forwarded-For) are limited too.
        request_type: 'both',
        timeout: protoDuration(s.ratelimit.timeoutMs),
        failure_mode_deny: s.ratelimit.onError === 'deny',
        enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
        rate_limit_service: {
          grpc_service: { envoy_grpc: { cluster_name: clusterNames.ratelimit } },
          transport_api_version: 'V3',
        },
      },
    },
    { name: filterNames.router, typed_config: { '@type': typeUrls.router, suppress_envoy_headers: true } },
  ];
}
