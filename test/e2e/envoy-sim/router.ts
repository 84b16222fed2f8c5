// The router filter (envoy.filters.http.router), the last HTTP filter:
// - no route: 404 (local reply, empty body);
// - direct_response: its status and body (content-type text/plain when there is a body);
// - a route action: the cluster, or for weighted_clusters the cluster whose weight range holds
//   floor(pick × total weight) (Envoy: random value % total weight, picked once per stream); an
//   aggregate cluster (cluster_type envoy.clusters.aggregate) sends to its first child while that
//   is healthy (health is not simulated, so the first child is reported as the backend);
// - the request Envoy sends: the route's header mutations (weighted cluster entry, then route,
//   virtual host, route configuration, each removing then adding), the router's own headers
//   (x-envoy-expected-rq-timeout-ms unless suppress_envoy_headers; retry/timeout control headers
//   consumed), then the upstream http_filters (see upstream-filters.ts).
import type {
  Cluster,
  Cluster_CustomClusterType,
} from '../../../common/envoy-api/gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  type Route,
  type RouteAction,
  RouteAction_ClusterNotFoundResponseCode,
  type VirtualHost,
  type WeightedCluster_ClusterWeight,
} from '../../../common/envoy-api/gen/envoy/config/route/v3/route_components_pb.js';
import type { RouteConfiguration } from '../../../common/envoy-api/gen/envoy/config/route/v3/route_pb.js';
import { ClusterConfigSchema } from '../../../common/envoy-api/gen/envoy/extensions/clusters/aggregate/v3/cluster_pb.js';
import type { Router } from '../../../common/envoy-api/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { durationMs, SimConfigError, SimUnsupportedError, unpack } from './bootstrap.js';
import type { FormatContext } from './formatter.js';
import { HeaderMap } from './header-map.js';
import { compileHeaderParser, type Mutation } from './header-mutation.js';
import { localReply, type Reply } from './local-reply.js';
import { checkRateLimits } from './rate-limit-descriptors.js';
import { clusterUpstreamFilters, compileUpstreamFilters } from './upstream-filters.js';

export interface ClusterChoice {
  name: string;
  /** The weighted_clusters entry, when the route splits. */
  weighted?: WeightedCluster_ClusterWeight;
}

export function chooseCluster(action: RouteAction, pick: number): ClusterChoice {
  const c = action.clusterSpecifier;
  if (c.case === 'cluster') return { name: c.value };
  if (c.case === 'weightedClusters') {
    const clusters = c.value.clusters;
    const total = clusters.reduce((s, w) => s + (w.weight ?? 0), 0);
    const selected = Math.min(total - 1, Math.floor(pick * total));
    let begin = 0;
    for (const w of clusters) {
      const end = begin + (w.weight ?? 0);
      if (selected >= begin && selected < end) return { name: w.name, weighted: w };
      begin = end;
    }
    throw new SimConfigError('weighted_clusters: total weight is 0');
  }
  throw new SimUnsupportedError('route action', `cluster specifier ${c.case ?? '(none)'}`);
}

export function aggregateChildren(c: Cluster | undefined): string[] | undefined {
  const t = c?.clusterDiscoveryType;
  if (t?.case !== 'clusterType') return undefined;
  const custom: Cluster_CustomClusterType = t.value;
  if (custom.name !== 'envoy.clusters.aggregate')
    throw new SimUnsupportedError(`cluster ${c?.name}`, `cluster_type ${custom.name}`);
  return unpack(custom.typedConfig, ClusterConfigSchema, `cluster ${c?.name}`).clusters;
}

const routerConsumedHeaders = [
  'x-envoy-retry-on',
  'x-envoy-retry-grpc-on',
  'x-envoy-max-retries',
  'x-envoy-retriable-status-codes',
  'x-envoy-retriable-header-names',
  'x-envoy-upstream-rq-timeout-ms',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-hedge-on-per-try-timeout',
  'x-envoy-upstream-rq-timeout-alt-response',
];

export interface RouterOutcome {
  reply: Reply;
  cluster?: string;
  backendCluster?: string;
  upstreamHeaders?: HeaderMap;
}

interface Parsers {
  request: Mutation;
  response: Mutation;
}

export class RouterStage {
  private readonly parsers = new WeakMap<object, Parsers>();
  private readonly chains = new Map<string, Mutation | undefined>();
  private readonly routerChain: Mutation | undefined;

  constructor(
    private readonly config: Router,
    private readonly routeConfig: RouteConfiguration,
    private readonly clusters: Map<string, Cluster>,
    where: string,
  ) {
    this.routerChain = compileUpstreamFilters(config.upstreamHttpFilters, `${where} router upstream_http_filters`);
    this.check(where);
  }

  private parserOf(
    owner: {
      requestHeadersToAdd: Route['requestHeadersToAdd'];
      requestHeadersToRemove: string[];
      responseHeadersToAdd: Route['responseHeadersToAdd'];
      responseHeadersToRemove: string[];
    },
    where: string,
  ): Parsers {
    let p = this.parsers.get(owner);
    if (!p) {
      p = {
        request: compileHeaderParser(owner.requestHeadersToAdd, owner.requestHeadersToRemove, where),
        response: compileHeaderParser(owner.responseHeadersToAdd, owner.responseHeadersToRemove, where),
      };
      this.parsers.set(owner, p);
    }
    return p;
  }

  /** Route, virtual host and route-configuration parsers, most specific first (Envoy's default order). */
  private parsersFor(vh: VirtualHost, route: Route, weighted?: WeightedCluster_ClusterWeight): Parsers[] {
    const out: Parsers[] = [];
    if (weighted) out.push(this.parserOf(weighted, `weighted cluster ${weighted.name}`));
    out.push(this.parserOf(route, `route ${route.name}`));
    out.push(this.parserOf(vh, `virtual host ${vh.name}`));
    out.push(this.parserOf(this.routeConfig, `route_config ${this.routeConfig.name}`));
    return out;
  }

  private upstreamChain(cluster: Cluster): Mutation | undefined {
    if (!this.chains.has(cluster.name)) this.chains.set(cluster.name, clusterUpstreamFilters(cluster));
    return this.chains.get(cluster.name) ?? this.routerChain;
  }

  /** Fails at construction for routes Envoy would reject or the simulator cannot play. */
  private check(where: string): void {
    if (this.routeConfig.mostSpecificHeaderMutationsWins)
      throw new SimUnsupportedError(where, 'most_specific_header_mutations_wins');
    for (const c of this.clusters.values()) {
      aggregateChildren(c);
      this.upstreamChain(c);
    }
    for (const vh of this.routeConfig.virtualHosts) {
      this.parserOf(vh, `virtual host ${vh.name}`);
      checkRateLimits(vh.rateLimits, `virtual host ${vh.name}`);
      for (const r of vh.routes) {
        const rw = `${where} route ${r.name || '(unnamed)'}`;
        this.parserOf(r, rw);
        const a = r.action;
        if (a.case === 'directResponse') {
          const body = a.value.body?.specifier;
          if (body && body.case !== 'inlineString' && body.case !== 'inlineBytes')
            throw new SimUnsupportedError(rw, `direct_response body ${body.case}`);
          continue;
        }
        if (a.case !== 'route') throw new SimUnsupportedError(rw, `action ${a.case ?? '(none)'}`);
        const ra = a.value;
        if (ra.prefixRewrite || ra.regexRewrite || ra.pathRewritePolicy)
          throw new SimUnsupportedError(rw, 'path rewrites');
        if (ra.hostRewriteSpecifier.case && ra.hostRewriteSpecifier.case !== 'autoHostRewrite')
          throw new SimUnsupportedError(rw, 'host rewrites other than auto_host_rewrite');
        if (ra.requestMirrorPolicies.length) throw new SimUnsupportedError(rw, 'request_mirror_policies');
        if (ra.internalRedirectPolicy) throw new SimUnsupportedError(rw, 'internal_redirect_policy');
        if (ra.metadataMatch) throw new SimUnsupportedError(rw, 'metadata_match');
        checkRateLimits(ra.rateLimits, rw);
        const spec = ra.clusterSpecifier;
        const names: string[] = [];
        if (spec.case === 'cluster') names.push(spec.value);
        else if (spec.case === 'weightedClusters') {
          if (spec.value.randomValueSpecifier.case) throw new SimUnsupportedError(rw, 'weighted_clusters header_name');
          if (spec.value.runtimeKeyPrefix) throw new SimUnsupportedError(rw, 'weighted_clusters runtime_key_prefix');
          for (const w of spec.value.clusters) {
            if (w.clusterHeader) throw new SimUnsupportedError(rw, 'weighted cluster cluster_header');
            if (w.hostRewriteSpecifier.case) throw new SimUnsupportedError(rw, 'weighted cluster host rewrite');
            this.parserOf(w, `${rw} weighted cluster ${w.name}`);
            names.push(w.name);
          }
          if (spec.value.clusters.reduce((s, w) => s + (w.weight ?? 0), 0) <= 0)
            throw new SimConfigError(`${rw}: weighted_clusters total weight must be > 0`);
        } else throw new SimUnsupportedError(rw, `cluster specifier ${spec.case ?? '(none)'}`);
        // Static route configs are validated against the clusters at load (validate_clusters).
        for (const n of names)
          if (!this.clusters.has(n))
            throw new SimConfigError(`${rw}: unknown cluster "${n}" (Envoy rejects the config)`);
      }
    }
  }

  /** What the router does with the request (the stream's current route). */
  route(
    sel: { virtualHost: VirtualHost; route: Route; choice?: ClusterChoice } | null,
    headers: HeaderMap,
    ctx: FormatContext,
  ): RouterOutcome {
    if (!sel) return { reply: localReply(404) };
    const { virtualHost: vh, route } = sel;
    const a = route.action;
    if (a.case === 'directResponse') {
      const spec = a.value.body?.specifier;
      const body =
        spec?.case === 'inlineString'
          ? spec.value
          : spec?.case === 'inlineBytes'
            ? Buffer.from(spec.value).toString('utf8')
            : '';
      const parsers = this.parsersFor(vh, route);
      return {
        reply: localReply(a.value.status, body, (h) => {
          for (const p of parsers) p.response(h, ctx);
        }),
      };
    }
    if (a.case !== 'route' || !sel.choice) throw new SimUnsupportedError(`route ${route.name}`, 'this action');
    const ra = a.value;
    const name = sel.choice.name;
    const cluster = this.clusters.get(name);
    if (!cluster) {
      const code = ra.clusterNotFoundResponseCode;
      const status =
        code === RouteAction_ClusterNotFoundResponseCode.NOT_FOUND
          ? 404
          : code === RouteAction_ClusterNotFoundResponseCode.INTERNAL_SERVER_ERROR
            ? 500
            : 503;
      return { reply: localReply(status), cluster: name };
    }
    const children = aggregateChildren(cluster);
    const backendCluster = children ? children[0] : name;
    if (children && (!children.length || !this.clusters.has(children[0])))
      return { reply: localReply(503, 'no healthy upstream'), cluster: name, backendCluster };

    const parsers = this.parsersFor(vh, route, sel.choice.weighted);
    const upstream = headers.clone();
    // auto_host_rewrite: the host of the chosen endpoint (its hostname, else its DNS address).
    if (ra.hostRewriteSpecifier.case === 'autoHostRewrite' && ra.hostRewriteSpecifier.value) {
      const host = endpointHost(this.clusters.get(backendCluster));
      if (host) upstream.set(':authority', host);
    }
    for (const p of parsers) p.request(upstream, { ...ctx, requestHeaders: upstream });
    for (const h of routerConsumedHeaders) upstream.remove(h);
    if (!this.config.suppressEnvoyHeaders) {
      const timeout = durationMs(ra.timeout, 15000);
      if (timeout > 0) upstream.set('x-envoy-expected-rq-timeout-ms', String(timeout));
    }
    // The router's cluster decides the upstream filter chain (for an aggregate: the aggregate's).
    this.upstreamChain(cluster)?.(upstream, { ...ctx, requestHeaders: upstream });

    const response = new HeaderMap();
    for (const p of parsers) p.response(response, ctx);
    return {
      reply: { status: 200, headers: response, body: '', local: false },
      cluster: name,
      backendCluster,
      upstreamHeaders: upstream,
    };
  }
}

/** The first endpoint's hostname (or socket address) of a cluster, for auto_host_rewrite. */
function endpointHost(
  cluster:
    | { loadAssignment?: { endpoints: { lbEndpoints: { hostIdentifier: { case?: string; value?: unknown } }[] }[] } }
    | undefined,
): string | undefined {
  const id = cluster?.loadAssignment?.endpoints[0]?.lbEndpoints[0]?.hostIdentifier;
  if (id?.case !== 'endpoint') return undefined;
  const ep = id.value as { hostname: string; address?: { address: { case?: string; value?: { address: string } } } };
  if (ep.hostname) return ep.hostname;
  return ep.address?.address.case === 'socketAddress' ? ep.address.address.value?.address : undefined;
}
