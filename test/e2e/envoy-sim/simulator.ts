// EnvoySimulator: plays Envoy's part for a request, from a rendered Envoy v3 bootstrap.
//
// listener (by port) → connection manager (connection-manager.ts) → route (route-match.ts) →
// the listener's HTTP filters in order: ext_authz (authz-filter.ts, real gRPC), ratelimit
// (ratelimit-filter.ts, real gRPC), router (router.ts + upstream-filters.ts) → the response back
// through the filters' encoder side. Backends are not called: a routed request is a 200 with the
// upstream request headers recorded.
//
// The bootstrap is read strictly (an unknown field fails, as in Envoy), references Envoy checks at
// load are checked (route → cluster, gRPC service → cluster), and any configured feature the
// simulator does not play throws SimUnsupportedError at construction rather than being ignored.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Bootstrap } from '../../../common/envoy-api/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import type { Cluster } from '../../../common/envoy-api/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { GrpcService } from '../../../common/envoy-api/gen/envoy/config/core/v3/grpc_service_pb.js';
import type { RouteConfiguration } from '../../../common/envoy-api/gen/envoy/config/route/v3/route_pb.js';
import { ExtAuthzSchema } from '../../../common/envoy-api/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import { RateLimitSchema } from '../../../common/envoy-api/gen/envoy/extensions/filters/http/ratelimit/v3/rate_limit_pb.js';
import { RouterSchema } from '../../../common/envoy-api/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { AuthzFilter } from './authz-filter.js';
import {
  clusterMap,
  type GatewayListener,
  gatewayListeners,
  parseBootstrap,
  SimConfigError,
  SimUnsupportedError,
  staticRuntime,
  typeNameOf,
  unpack,
} from './bootstrap.js';
import { ConnectionManager } from './connection-manager.js';
import type { Reply } from './local-reply.js';
import { RateLimitFilter } from './ratelimit-filter.js';
import { checkRouteConfiguration, matchRoute } from './route-match.js';
import { chooseCluster, RouterStage } from './router.js';
import type { RouteState, StreamState } from './stream.js';
import type { SimOptions, SimRequest, SimResult } from './types.js';
import { speaksHttp2 } from './upstream-filters.js';

/** The local address Envoy reports (CheckRequest destination) when the listener binds a wildcard. */
export const simulatedLocalAddress = '10.0.0.2';
export const defaultSourceIp = '10.0.0.1';

type Stage =
  | { kind: 'authz'; filter: AuthzFilter }
  | { kind: 'ratelimit'; filter: RateLimitFilter }
  | { kind: 'router'; router: RouterStage };

interface ListenerRuntime {
  gl: GatewayListener;
  routeConfig: RouteConfiguration;
  cm: ConnectionManager;
  stages: Stage[];
  defaultHost: string;
}

const perRouteFilters = new Set(['envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute']);

export class EnvoySimulator {
  private readonly bootstrap: Bootstrap;
  private readonly clusters: Map<string, Cluster>;
  private readonly listeners: ListenerRuntime[] = [];
  private readonly closables: { close(): void }[] = [];
  private nextPeerPort = 40000;

  constructor(
    bootstrap: unknown,
    private readonly opts: SimOptions,
  ) {
    this.bootstrap = parseBootstrap(bootstrap);
    this.clusters = clusterMap(this.bootstrap);
    const runtime = staticRuntime(this.bootstrap);
    try {
      for (const gl of gatewayListeners(this.bootstrap)) this.listeners.push(this.compileListener(gl, runtime));
    } catch (e) {
      this.close();
      throw e;
    }
    if (!this.listeners.length) throw new SimConfigError('the bootstrap has no HTTP listener');
  }

  private grpcCluster(gs: GrpcService | undefined, where: string): string {
    const name = gs?.targetSpecifier.case === 'envoyGrpc' ? gs.targetSpecifier.value.clusterName : '';
    const c = this.clusters.get(name);
    if (!c) throw new SimConfigError(`${where}: unknown gRPC cluster "${name}" (Envoy rejects the config)`);
    if (!speaksHttp2(c))
      throw new SimConfigError(`${where}: cluster "${name}" is not HTTP/2, so Envoy's gRPC calls to it would fail`);
    return name;
  }

  private compileListener(gl: GatewayListener, runtime: ReturnType<typeof staticRuntime>): ListenerRuntime {
    const hcm = gl.hcm;
    if (hcm.routeSpecifier.case !== 'routeConfig')
      throw new SimUnsupportedError(`listener ${gl.listener.name}`, 'rds / scoped routes');
    const routeConfig = hcm.routeSpecifier.value;
    checkRouteConfiguration(routeConfig);
    const cm = new ConnectionManager(gl, runtime);
    const localAddress = gl.address === '0.0.0.0' || gl.address === '::' ? simulatedLocalAddress : gl.address;
    const stages: Stage[] = [];
    const filterNames = new Set<string>();
    hcm.httpFilters.forEach((f, i) => {
      const where = `listener ${gl.listener.name} http filter ${f.name}`;
      const any = f.configType.case === 'typedConfig' ? f.configType.value : undefined;
      const type = typeNameOf(any);
      const last = i === hcm.httpFilters.length - 1;
      if (type === RouterSchema.typeName) {
        if (!last) throw new SimConfigError(`${where}: the router must be the last HTTP filter`);
        stages.push({
          kind: 'router',
          router: new RouterStage(
            unpack(any, RouterSchema, where),
            routeConfig,
            this.clusters,
            `listener ${gl.listener.name}`,
          ),
        });
        return;
      }
      if (last) throw new SimConfigError(`${where}: the last HTTP filter must be the router`);
      if (f.disabled) return;
      filterNames.add(f.name);
      if (type === ExtAuthzSchema.typeName) {
        const cfg = unpack(any, ExtAuthzSchema, where);
        const cluster = this.grpcCluster(cfg.services.case === 'grpcService' ? cfg.services.value : undefined, where);
        const filter = new AuthzFilter(f.name, cfg, this.opts.authz, cluster, localAddress);
        this.closables.push(filter);
        stages.push({ kind: 'authz', filter });
        return;
      }
      if (type === RateLimitSchema.typeName) {
        const cfg = unpack(any, RateLimitSchema, where);
        const cluster = this.grpcCluster(cfg.rateLimitService?.grpcService, where);
        const filter = new RateLimitFilter(
          f.name,
          cfg,
          this.opts.ratelimit,
          cluster,
          this.bootstrap.node?.cluster ?? '',
        );
        this.closables.push(filter);
        stages.push({ kind: 'ratelimit', filter });
        return;
      }
      throw new SimUnsupportedError(where, `HTTP filter type ${type || '(none)'}`);
    });
    if (!stages.some((s) => s.kind === 'router'))
      throw new SimConfigError(`listener ${gl.listener.name}: no router filter`);
    // Per-filter route configuration must belong to a filter of the chain that the simulator reads.
    const levels = [
      routeConfig.typedPerFilterConfig,
      ...routeConfig.virtualHosts.flatMap((vh) => [
        vh.typedPerFilterConfig,
        ...vh.routes.flatMap((r) => [
          r.typedPerFilterConfig,
          ...(r.action.case === 'route' && r.action.value.clusterSpecifier.case === 'weightedClusters'
            ? r.action.value.clusterSpecifier.value.clusters.map((w) => w.typedPerFilterConfig)
            : []),
        ]),
      ]),
    ];
    for (const level of levels)
      for (const [name, any] of Object.entries(level)) {
        if (!filterNames.has(name) || !perRouteFilters.has(typeNameOf(any)))
          throw new SimUnsupportedError(`route_config ${routeConfig.name}`, `typed_per_filter_config "${name}"`);
      }
    const firstDomain = routeConfig.virtualHosts[0]?.domains.find((d) => !d.includes('*'));
    return { gl, routeConfig, cm, stages, defaultHost: firstDomain ?? 'localhost' };
  }

  async request(r: SimRequest): Promise<SimResult> {
    const lr =
      r.listenerPort === undefined ? this.listeners[0] : this.listeners.find((l) => l.gl.port === r.listenerPort);
    if (!lr) throw new Error(`envoy-sim: no HTTP listener on port ${r.listenerPort}`);
    const peer = { address: r.sourceIp ?? defaultSourceIp, port: this.nextPeerPort++ };
    if (!isIP(peer.address)) throw new Error(`envoy-sim: sourceIp "${peer.address}" is not an IP address`);
    if (this.nextPeerPort > 60999) this.nextPeerPort = 40000;

    const bodyText = r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    const headers: [string, string][] = [];
    let authority = r.host;
    for (const [k, v] of Object.entries(r.headers ?? {})) {
      const l = k.toLowerCase();
      if (l.startsWith(':')) throw new Error(`envoy-sim: pseudo-header "${k}" in SimRequest.headers`);
      if (l === 'host') {
        authority ??= v;
        continue;
      }
      headers.push([l, v]);
    }
    authority ??= lr.defaultHost;
    const has = (n: string) => headers.some(([k]) => k === n);
    if (bodyText !== undefined) {
      if (!has('content-length') && !has('transfer-encoding'))
        headers.push(['content-length', String(Buffer.byteLength(bodyText))]);
      if (typeof r.body === 'object' && !has('content-type')) headers.push(['content-type', 'application/json']);
    }

    const result: SimResult = {
      status: 0,
      responseHeaders: {},
      authz: { called: false },
      ratelimit: { called: false },
    };
    const admitted = lr.cm.admit({ method: r.method, path: r.path, authority, headers, peer: peer.address });
    if ('status' in admitted) return this.finish(result, admitted, [], undefined);

    const state: StreamState = {
      listener: lr.gl,
      routeConfig: lr.routeConfig,
      headers: admitted.headers,
      body: bodyText === undefined || bodyText === '' ? undefined : new Uint8Array(Buffer.from(bodyText)),
      peer,
      client: admitted.client,
      streamId: randomBytes(8).readBigUInt64BE(),
      dynamicMetadata: {},
      encoders: [],
    };
    let pickValue: number | undefined;
    const pick = () => {
      if (pickValue === undefined) {
        pickValue = this.opts.pick ? this.opts.pick() : Math.random();
        if (!(pickValue >= 0 && pickValue < 1))
          throw new Error(`envoy-sim: pick() returned ${pickValue}, not in [0, 1)`);
      }
      return pickValue;
    };
    const route = (): RouteState | null => {
      if (state.route === undefined) {
        const sel = matchRoute(lr.routeConfig, state.headers);
        state.route = sel
          ? {
              ...sel,
              choice: sel.route.action.case === 'route' ? chooseCluster(sel.route.action.value, pick()) : undefined,
            }
          : null;
      }
      return state.route;
    };
    result.firstRoute = route()?.route.name || undefined;
    const ctx = () => ({ requestHeaders: state.headers, remoteAddress: state.client.remoteAddress });

    for (const stage of lr.stages) {
      if (stage.kind === 'authz') {
        const out = await stage.filter.decode(state, () => {
          state.route = undefined;
        });
        result.authz = out.result;
        if (out.reply) return this.finish(result, out.reply, state.encoders, route());
        route();
      } else if (stage.kind === 'ratelimit') {
        route();
        const out = await stage.filter.decode(state, (n) => this.clusters.has(n));
        result.ratelimit = out.result;
        if (out.reply) return this.finish(result, out.reply, state.encoders, route());
      } else {
        const sel = route();
        const out = stage.router.route(sel, state.headers, ctx());
        if (out.upstreamHeaders) {
          result.cluster = out.cluster;
          result.backendCluster = out.backendCluster;
          result.upstreamHeaders = out.upstreamHeaders.toRecord(',');
        } else if (out.cluster) result.cluster = out.cluster;
        return this.finish(result, out.reply, state.encoders, sel);
      }
    }
    throw new Error('envoy-sim: the filter chain ended without the router');
  }

  private finish(
    result: SimResult,
    reply: Reply,
    encoders: ((r: Reply) => void)[],
    sel: RouteState | null | undefined,
  ): SimResult {
    for (const e of [...encoders].reverse()) e(reply);
    result.status = reply.status;
    result.route = sel?.route.name || undefined;
    result.responseHeaders = reply.headers.toRecord(', ');
    if (reply.local) result.body = reply.body;
    return result;
  }

  close(): void {
    for (const c of this.closables.splice(0)) c.close();
  }
}
