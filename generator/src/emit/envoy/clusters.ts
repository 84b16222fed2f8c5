// Clusters: the two gRPC services (HTTP/2), Envoy's own admin (for the stats listener), one
// cluster per backend, and one aggregate cluster per failover chain (priority order).
import type { Backend, GatewayModel } from '../../model/types.js';
import { protoDuration } from '../durations.js';
import { clusterNames, credentialHeader } from '../names.js';
import { filterNames, type Json, typeUrls } from './type-urls.js';

const systemCaBundle = '/etc/ssl/certs/ca-certificates.crt';

function endpoint(cluster: string, host: string, port: number, hostname?: string): Json {
  const ep: Json = { address: { socket_address: { address: host, port_value: port } } };
  if (hostname) ep.hostname = hostname;
  return { cluster_name: cluster, endpoints: [{ lb_endpoints: [{ endpoint: ep }] }] };
}

function grpcService(name: string, host: string, port: number): Json {
  return {
    name,
    type: 'STRICT_DNS',
    connect_timeout: '1s',
    dns_lookup_family: 'V4_PREFERRED',
    typed_extension_protocol_options: {
      [typeUrls.httpProtocolOptions.split('/')[1]]: {
        '@type': typeUrls.httpProtocolOptions,
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: endpoint(name, host, port),
  };
}

/**
 * Upstream filters of a backend cluster: copy the provider key that ext-authz put in this
 * backend's credential header into the header the provider expects, and drop every credential
 * header, so no backend ever sees another backend's key.
 */
function upstreamFilters(backend: Backend, model: GatewayModel): Json[] | undefined {
  const all = model.backends.filter((b) => b.credential).map((b) => credentialHeader(b.name));
  if (!all.length) return undefined;
  const mutations: Json[] = [];
  if (backend.credential) {
    mutations.push({
      append: {
        header: { key: backend.credential.header, value: `%REQ(${credentialHeader(backend.name)})%` },
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
      },
    });
  }
  for (const h of all) mutations.push({ remove: h });
  return [
    {
      name: filterNames.headerMutation,
      typed_config: { '@type': typeUrls.headerMutation, mutations: { request_mutations: mutations } },
    },
    { name: filterNames.upstreamCodec, typed_config: { '@type': typeUrls.upstreamCodec } },
  ];
}

function backendCluster(b: Backend, model: GatewayModel): Json {
  const name = clusterNames.backend(b.name);
  const protocol: Json = { '@type': typeUrls.httpProtocolOptions, explicit_http_config: { http_protocol_options: {} } };
  const filters = upstreamFilters(b, model);
  if (filters) protocol.http_filters = filters;
  const cluster: Json = {
    name,
    type: b.scheme === 'https' ? 'LOGICAL_DNS' : 'STRICT_DNS',
    connect_timeout: protoDuration(b.connectTimeoutMs),
    dns_lookup_family: 'V4_PREFERRED',
    typed_extension_protocol_options: { [typeUrls.httpProtocolOptions.split('/')[1]]: protocol },
    circuit_breakers: {
      thresholds: [
        {
          priority: 'DEFAULT',
          max_connections: b.maxConnections,
          max_pending_requests: b.maxConnections,
          max_requests: b.maxConnections,
        },
      ],
    },
    outlier_detection: {
      consecutive_5xx: 5,
      consecutive_gateway_failure: 3,
      interval: '10s',
      base_ejection_time: '30s',
      max_ejection_percent: 100,
    },
    load_assignment: endpoint(name, b.host, b.port, b.host),
  };
  if (b.healthCheck) {
    const hc = b.healthCheck;
    cluster.health_checks = [
      {
        timeout: protoDuration(hc.timeoutMs),
        interval: protoDuration(hc.intervalMs),
        unhealthy_threshold: hc.unhealthyThreshold,
        healthy_threshold: hc.healthyThreshold,
        http_health_check: { path: hc.path, host: b.host },
      },
    ];
  }
  if (b.scheme === 'https') {
    cluster.transport_socket = {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': typeUrls.upstreamTls,
        sni: b.sni,
        common_tls_context: {
          tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
          validation_context: {
            trusted_ca: { filename: systemCaBundle },
            match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: b.sni } }],
          },
        },
      },
    };
  }
  return cluster;
}

/**
 * Envoy runs the upstream filters of the route's cluster: for a failover chain, the aggregate
 * cluster's, whichever backend serves the attempt. So the chain's filters inject the primary's key
 * (the model allows a credential only on the primary of a chain) and drop every credential header.
 */
function failoverCluster(chain: string[], model: GatewayModel): Json {
  const cluster: Json = {
    name: clusterNames.failover(chain),
    connect_timeout: '5s',
    lb_policy: 'CLUSTER_PROVIDED',
    cluster_type: {
      name: 'envoy.clusters.aggregate',
      typed_config: { '@type': typeUrls.aggregateCluster, clusters: chain.map(clusterNames.backend) },
    },
  };
  const primary = model.backends.find((b) => b.name === chain[0])!;
  const filters = upstreamFilters(primary, model);
  if (filters) {
    cluster.typed_extension_protocol_options = {
      [typeUrls.httpProtocolOptions.split('/')[1]]: {
        '@type': typeUrls.httpProtocolOptions,
        explicit_http_config: { http_protocol_options: {} },
        http_filters: filters,
      },
    };
  }
  return cluster;
}

function failoverChains(model: GatewayModel): string[][] {
  const chains = new Map<string, string[]>();
  for (const r of model.routes) {
    if (r.action.kind === 'single' && r.action.failover.length) {
      const chain = [r.action.backend, ...r.action.failover];
      chains.set(clusterNames.failover(chain), chain);
    }
  }
  return [...chains.values()];
}

export function clusters(model: GatewayModel): Json[] {
  const s = model.services;
  return [
    grpcService(clusterNames.extAuthz, s.extAuthz.host, s.extAuthz.port),
    grpcService(clusterNames.ratelimit, s.ratelimit.host, s.ratelimit.port),
    {
      name: clusterNames.admin,
      type: 'STATIC',
      connect_timeout: '1s',
      load_assignment: endpoint(clusterNames.admin, '127.0.0.1', s.envoy.adminPort),
    },
    ...model.backends.map((b) => backendCluster(b, model)),
    ...failoverChains(model).map((chain) => failoverCluster(chain, model)),
  ];
}
