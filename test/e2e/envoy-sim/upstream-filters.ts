// A cluster's upstream HTTP filter chain: typed_extension_protocol_options
// ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].http_filters, run on the request just
// before it is encoded to the backend. Simulated: envoy.filters.http.header_mutation's
// request_mutations (remove / append with %REQ()% and append_action), ended by
// envoy.filters.http.upstream_codec.
//
// Which chain runs: Envoy's UpstreamRequest builds it from the ROUTER's cluster, i.e. the route's
// cluster (the picked one for weighted_clusters); if that cluster configures none, the router
// filter's upstream_http_filters; else only the codec. For an aggregate cluster that is the
// aggregate itself, NOT the child that load balancing picked: a child's http_filters do not run
// behind an aggregate (envoyproxy/envoy#29318; source/common/router/upstream_request.cc:
// `parent_.cluster()->createFilterChain(...)`).
import type { Cluster } from '../../../common/envoy-api/gen/envoy/config/cluster/v3/cluster_pb.js';
import { HeaderMutationSchema } from '../../../common/envoy-api/gen/envoy/extensions/filters/http/header_mutation/v3/header_mutation_pb.js';
import { UpstreamCodecSchema } from '../../../common/envoy-api/gen/envoy/extensions/filters/http/upstream_codec/v3/upstream_codec_pb.js';
import type { HttpFilter } from '../../../common/envoy-api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import {
  type HttpProtocolOptions,
  HttpProtocolOptionsSchema,
} from '../../../common/envoy-api/gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { SimConfigError, SimUnsupportedError, typeNameOf, unpack } from './bootstrap.js';
import { compileMutationRules, type Mutation } from './header-mutation.js';

const httpOptionsKey = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

export function httpProtocolOptions(c: Cluster): HttpProtocolOptions | undefined {
  const any = c.typedExtensionProtocolOptions[httpOptionsKey];
  return any ? unpack(any, HttpProtocolOptionsSchema, `cluster ${c.name} ${httpOptionsKey}`) : undefined;
}

/** Whether the cluster speaks HTTP/2 upstream (needed for gRPC side-calls). */
export function speaksHttp2(c: Cluster): boolean {
  const o = httpProtocolOptions(c);
  if (o) {
    const p = o.upstreamProtocolOptions;
    if (p.case === 'explicitHttpConfig') return p.value.protocolConfig.case === 'http2ProtocolOptions';
    if (p.case === 'autoConfig') return true;
    return false;
  }
  return c.http2ProtocolOptions !== undefined;
}

/** A compiled upstream filter chain; undefined for an empty list (Envoy then falls back). */
export function compileUpstreamFilters(filters: HttpFilter[], where: string): Mutation | undefined {
  if (!filters.length) return undefined;
  const steps: Mutation[] = [];
  filters.forEach((f, i) => {
    const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
    const type = typeNameOf(any);
    const last = i === filters.length - 1;
    if (type === UpstreamCodecSchema.typeName) {
      if (!last) throw new SimConfigError(`${where}: upstream_codec must be the last filter (Envoy rejects this)`);
      return;
    }
    if (last) throw new SimConfigError(`${where}: the last filter must be envoy.filters.http.upstream_codec`);
    if (f.disabled) return;
    if (type === HeaderMutationSchema.typeName) {
      const hm = unpack(any, HeaderMutationSchema, `${where} ${f.name}`);
      if (hm.mutations?.responseMutations.length)
        throw new SimUnsupportedError(`${where} ${f.name}`, 'response_mutations (backend responses are not simulated)');
      steps.push(compileMutationRules(hm.mutations?.requestMutations ?? [], `${where} ${f.name}`));
      return;
    }
    throw new SimUnsupportedError(where, `filter ${f.name} (${type || 'no typed_config'})`);
  });
  return (headers, ctx) => {
    for (const s of steps) s(headers, ctx);
  };
}

/** The compiled upstream filter chain configured on a cluster, if any. */
export function clusterUpstreamFilters(c: Cluster): Mutation | undefined {
  return compileUpstreamFilters(httpProtocolOptions(c)?.httpFilters ?? [], `cluster ${c.name} upstream http_filters`);
}
