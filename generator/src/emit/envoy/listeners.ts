// One listener per gateway.yaml listener (HTTP connection manager with an inline route config),
// plus the stats listener that exposes only Envoy's Prometheus and readiness endpoints: the admin
// interface itself stays on 127.0.0.1.
import type { GatewayModel, Listener } from '../../model/types.js';
import { clusterNames, listenerName, routeConfigName } from '../names.js';
import { accessLog } from './access-log.js';
import { httpFilters } from './http-filters.js';
import { reservedHeaders } from './reserved-headers.js';
import { virtualHost } from './routes.js';
import { filterNames, type Json, typeUrls } from './type-urls.js';

function hcm(statPrefix: string, routeConfig: Json, filters: Json[], extra: Json = {}): Json {
  return {
    name: filterNames.httpConnectionManager,
    typed_config: {
      '@type': typeUrls.httpConnectionManager,
      stat_prefix: statPrefix,
      codec_type: 'AUTO',
      ...extra,
      route_config: routeConfig,
      http_filters: filters,
    },
  };
}

function gatewayListener(model: GatewayModel, l: Listener): Json {
  return {
    name: listenerName(l.name),
    address: { socket_address: { address: l.address, port_value: l.port } },
    filter_chains: [
      {
        filters: [
          hcm(
            l.name,
            { name: routeConfigName(l.name), virtual_hosts: [virtualHost(model, l.name)] },
            httpFilters(model),
            {
              use_remote_address: true,
              xff_num_trusted_hops: l.trustedProxies,
              normalize_path: true,
              merge_slashes: true,
              path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT',
              common_http_protocol_options: { headers_with_underscores_action: 'REJECT_REQUEST' },
              stream_idle_timeout: '300s',
              request_headers_timeout: '10s',
              early_header_mutation_extensions: [
                {
                  name: 'envoy.http.early_header_mutation.header_mutation',
                  typed_config: {
                    '@type': typeUrls.earlyHeaderMutation,
                    mutations: reservedHeaders(model).map((h) => ({ remove: h })),
                  },
                },
              ],
              access_log: accessLog(),
            },
          ),
        ],
      },
    ],
  };
}

function statsListener(model: GatewayModel): Json {
  const toAdmin = (path: string) => ({ match: { path }, route: { cluster: clusterNames.admin } });
  return {
    name: 'listener_stats',
    address: { socket_address: { address: '0.0.0.0', port_value: model.services.envoy.statsPort } },
    filter_chains: [
      {
        filters: [
          hcm(
            'stats',
            {
              name: 'routes_stats',
              virtual_hosts: [
                {
                  name: 'stats',
                  domains: ['*'],
                  routes: [
                    { ...toAdmin('/stats/prometheus') },
                    { ...toAdmin('/ready') },
                    { match: { prefix: '/' }, direct_response: { status: 404 } },
                  ],
                },
              ],
            },
            [{ name: filterNames.router, typed_config: { '@type': typeUrls.router } }],
          ),
        ],
      },
    ],
  };
}

export function listeners(model: GatewayModel): Json[] {
  return [...model.listeners.map((l) => gatewayListener(model, l)), statsListener(model)];
}
