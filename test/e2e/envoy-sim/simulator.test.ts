// EnvoySimulator on hand-written bootstraps, against MOCK gRPC servers with scripted answers: the
// Envoy behaviours the rendered envoy.yaml does not exercise (failure modes, header semantics,
// per-route settings, config checks).
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CheckResponseSchema } from '../../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import { EnvoySimulator, SimConfigError, type SimOptions, SimUnsupportedError } from './index.js';
import {
  allowAll,
  type MockAuthz,
  type MockRateLimit,
  rateLimitOk,
  startMockAuthz,
  startMockRateLimit,
} from './mock-grpc-servers.js';

const t = (type: string) => `type.googleapis.com/${type}`;
const http2 = {
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': t('envoy.extensions.upstreams.http.v3.HttpProtocolOptions'),
    explicit_http_config: { http2_protocol_options: {} },
  },
};
const endpoint = (name: string) => ({
  cluster_name: name,
  endpoints: [
    { lb_endpoints: [{ endpoint: { address: { socket_address: { address: `${name}.local`, port_value: 80 } } } }] },
  ],
});
const withUpstreamMutations = (name: string, mutations: unknown[]) => ({
  name,
  type: 'STRICT_DNS',
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': t('envoy.extensions.upstreams.http.v3.HttpProtocolOptions'),
      explicit_http_config: { http_protocol_options: {} },
      http_filters: [
        {
          name: 'envoy.filters.http.header_mutation',
          typed_config: {
            '@type': t('envoy.extensions.filters.http.header_mutation.v3.HeaderMutation'),
            mutations: { request_mutations: mutations },
          },
        },
        {
          name: 'envoy.filters.http.upstream_codec',
          typed_config: { '@type': t('envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec') },
        },
      ],
    },
  },
  load_assignment: endpoint(name),
});

interface BootOptions {
  routes: unknown[];
  vhost?: object;
  authz?: object | false;
  ratelimit?: object | false;
  router?: object;
  hcm?: object;
  clusters?: unknown[];
  runtime?: object;
}

function boot(o: BootOptions): unknown {
  const filters: unknown[] = [];
  if (o.authz !== false)
    filters.push({
      name: 'envoy.filters.http.ext_authz',
      typed_config: {
        '@type': t('envoy.extensions.filters.http.ext_authz.v3.ExtAuthz'),
        transport_api_version: 'V3',
        grpc_service: { envoy_grpc: { cluster_name: 'authz' }, timeout: '0.5s' },
        clear_route_cache: true,
        ...o.authz,
      },
    });
  if (o.ratelimit !== false)
    filters.push({
      name: 'envoy.filters.http.ratelimit',
      typed_config: {
        '@type': t('envoy.extensions.filters.http.ratelimit.v3.RateLimit'),
        domain: 'test',
        timeout: '0.5s',
        enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
        rate_limit_service: { grpc_service: { envoy_grpc: { cluster_name: 'rls' } }, transport_api_version: 'V3' },
        ...o.ratelimit,
      },
    });
  filters.push({
    name: 'envoy.filters.http.router',
    typed_config: {
      '@type': t('envoy.extensions.filters.http.router.v3.Router'),
      suppress_envoy_headers: true,
      ...o.router,
    },
  });
  return {
    node: { id: 'n', cluster: 'gw' },
    static_resources: {
      listeners: [
        {
          name: 'l',
          address: { socket_address: { address: '0.0.0.0', port_value: 8000 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': t('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'),
                    stat_prefix: 'l',
                    use_remote_address: true,
                    route_config: {
                      name: 'rc',
                      virtual_hosts: [{ name: 'vh', domains: ['gw.test'], routes: o.routes, ...o.vhost }],
                    },
                    http_filters: filters,
                    ...o.hcm,
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: 'authz',
          type: 'STRICT_DNS',
          typed_extension_protocol_options: http2,
          load_assignment: endpoint('authz'),
        },
        { name: 'rls', type: 'STRICT_DNS', typed_extension_protocol_options: http2, load_assignment: endpoint('rls') },
        { name: 'plain', type: 'STRICT_DNS', load_assignment: endpoint('plain') },
        withUpstreamMutations('b1', [
          {
            append: {
              header: { key: 'x-b1', value: 'from-b1:%REQ(x-secret)%' },
              append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
            },
          },
          { remove: 'x-secret' },
        ]),
        withUpstreamMutations('b2', [{ remove: 'x-secret' }]),
        {
          name: 'agg',
          lb_policy: 'CLUSTER_PROVIDED',
          cluster_type: {
            name: 'envoy.clusters.aggregate',
            typed_config: {
              '@type': t('envoy.extensions.clusters.aggregate.v3.ClusterConfig'),
              clusters: ['b1', 'b2'],
            },
          },
        },
        ...(o.clusters ?? []),
      ],
    },
    ...(o.runtime ? { layered_runtime: { layers: [{ name: 's', static_layer: o.runtime }] } } : {}),
  };
}

const route = (name: string, match: object, action: object, extra: object = {}) => ({
  name,
  match,
  ...action,
  ...extra,
});
const toCluster = (cluster: string, extra: object = {}) => ({ route: { cluster, ...extra } });
const perRoute = (settings: object) => ({
  typed_per_filter_config: {
    'envoy.filters.http.ext_authz': {
      '@type': t('envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute'),
      ...settings,
    },
  },
});
const perIp = [
  { actions: [{ generic_key: { descriptor_key: 'limit', descriptor_value: 'ip' } }, { remote_address: {} }] },
];
const hv = (key: string, value: string, extra: object = {}) => ({ header: { key, value }, ...extra });

describe('EnvoySimulator behaviours (hand-written bootstraps, mock side services)', () => {
  let authz: MockAuthz;
  let rls: MockRateLimit;
  const sims: EnvoySimulator[] = [];
  let opts: SimOptions;
  const sim = (o: BootOptions) => {
    const s = new EnvoySimulator(boot(o), opts);
    sims.push(s);
    return s;
  };
  const external = { 'x-forwarded-for': '198.51.100.1' };

  beforeAll(async () => {
    authz = await startMockAuthz();
    rls = await startMockRateLimit();
    opts = { authz: { host: '127.0.0.1', port: authz.port }, ratelimit: { host: '127.0.0.1', port: rls.port } };
  });
  afterAll(async () => {
    for (const s of sims) s.close();
    await Promise.all([authz.close(), rls.close()]);
  });
  beforeEach(() => {
    authz.requests.length = 0;
    rls.requests.length = 0;
    authz.reply = () => allowAll();
    rls.reply = () => rateLimitOk();
  });

  it('lets the request through on an ext_authz error with failure_mode_allow (and marks it)', async () => {
    const s = sim({
      authz: { failure_mode_allow: true, failure_mode_allow_header_add: true },
      routes: [route('r', { prefix: '/' }, toCluster('plain'))],
    });
    authz.reply = () => ({ error: grpc.status.INTERNAL });
    const r = await s.request({ method: 'GET', path: '/' });
    expect(r.status).toBe(200);
    expect(r.authz).toMatchObject({ called: true });
    expect(r.authz?.allowed).toBeUndefined();
    expect(r.upstreamHeaders?.['x-envoy-auth-failure-mode-allowed']).toBe('true');
  });

  it('answers status_on_error (403 when unset) on an ext_authz error without failure_mode_allow', async () => {
    const s = sim({ routes: [route('r', { prefix: '/' }, toCluster('plain'))] });
    authz.reply = () => ({ error: grpc.status.UNAVAILABLE });
    expect((await s.request({ method: 'GET', path: '/' })).status).toBe(403);
  });

  it('denies with 403 when the denied response has no status', async () => {
    const s = sim({ routes: [route('r', { prefix: '/' }, toCluster('plain'))] });
    authz.reply = () => create(CheckResponseSchema, { status: { code: 7 } });
    const r = await s.request({ method: 'GET', path: '/' });
    expect(r).toMatchObject({ status: 403, body: '', authz: { called: true, allowed: false } });
  });

  it('applies ok_response headers with Envoy semantics and keeps :path and host', async () => {
    const s = sim({ routes: [route('r', { prefix: '/' }, toCluster('plain'))] });
    authz.reply = () =>
      allowAll({
        httpResponse: {
          case: 'okResponse',
          value: {
            headers: [
              hv('x-set', 'new', { append: false }),
              hv('x-app', 'two', { append: true }),
              hv('x-app-missing', 'v', { append: true }),
              hv('x-add', 'second'),
              hv('x-if-absent', 'no', { appendAction: 1 }),
            ],
            headersToRemove: ['x-drop', ':path', 'host'],
            responseHeadersToAdd: [hv('x-resp', 'r', { append: false })],
          },
        },
      });
    const r = await s.request({
      method: 'GET',
      path: '/p',
      headers: { 'x-set': 'old', 'x-app': 'one', 'x-add': 'first', 'x-if-absent': 'yes', 'x-drop': '1' },
    });
    expect(r.upstreamHeaders).toMatchObject({
      ':path': '/p',
      ':authority': 'gw.test',
      'x-set': 'new',
      'x-app': 'one,two',
      'x-add': 'first,second',
      'x-if-absent': 'yes',
    });
    expect(r.upstreamHeaders).not.toHaveProperty('x-app-missing');
    expect(r.upstreamHeaders).not.toHaveProperty('x-drop');
    expect(r.responseHeaders['x-resp']).toBe('r');
  });

  it('re-routes only with clear_route_cache, and does not re-run ext_authz for the new route', async () => {
    const routes = [
      route(
        'tagged',
        { prefix: '/', headers: [{ name: 'x-tag', present_match: true }] },
        toCluster('b2'),
        perRoute({ disabled: true }),
      ),
      route('first', { prefix: '/' }, toCluster('plain')),
    ];
    authz.reply = () =>
      allowAll({ httpResponse: { case: 'okResponse', value: { headers: [hv('x-tag', '1', { append: false })] } } });
    const on = await sim({ routes }).request({ method: 'GET', path: '/' });
    expect(on).toMatchObject({ firstRoute: 'first', route: 'tagged', cluster: 'b2' });
    expect(authz.requests).toHaveLength(1);
    const off = await sim({ routes, authz: { clear_route_cache: false } }).request({ method: 'GET', path: '/' });
    expect(off).toMatchObject({ firstRoute: 'first', route: 'first', cluster: 'plain' });
  });

  it('skips ext_authz for a disabled route and merges context_extensions from the virtual host', async () => {
    const s = sim({
      vhost: perRoute({ check_settings: { context_extensions: { a: 'vh', b: 'vh' } } }),
      routes: [
        route('off', { path: '/off' }, toCluster('plain'), perRoute({ disabled: true })),
        route(
          'on',
          { prefix: '/' },
          toCluster('plain'),
          perRoute({ check_settings: { context_extensions: { b: 'route' } } }),
        ),
      ],
    });
    expect((await s.request({ method: 'GET', path: '/off' })).authz?.called).toBe(false);
    await s.request({ method: 'GET', path: '/x' });
    expect(authz.requests[0].attributes?.contextExtensions).toEqual({ a: 'vh', b: 'route' });
  });

  it('still calls ext_authz before a direct_response route', async () => {
    const s = sim({
      routes: [route('d', { prefix: '/' }, { direct_response: { status: 418, body: { inline_string: 'tea' } } })],
    });
    const r = await s.request({ method: 'GET', path: '/' });
    expect(r).toMatchObject({ status: 418, body: 'tea', authz: { called: true, allowed: true } });
    expect(r.ratelimit).toMatchObject({ called: false, skipped: 'not a route entry' });
  });

  it('sends raw_body with pack_as_bytes and a cut body with allow_partial_message', async () => {
    const s = sim({
      authz: { with_request_body: { max_request_bytes: 4, allow_partial_message: true, pack_as_bytes: true } },
      routes: [route('r', { prefix: '/' }, toCluster('plain'))],
    });
    const r = await s.request({ method: 'POST', path: '/', body: 'abcdefgh' });
    expect(r.status).toBe(200);
    const http = authz.requests[0].attributes!.request!.http!;
    expect(Buffer.from(http.rawBody).toString()).toBe('abcd');
    expect(http.body).toBe('');
    expect(http.headers['x-envoy-auth-partial-body']).toBe('true');
    expect(http.headers['content-length']).toBe('8');
  });

  it('drops a client-sent x-envoy-auth-partial-body from the CheckRequest', async () => {
    const s = sim({ routes: [route('r', { prefix: '/' }, toCluster('plain'))] });
    await s.request({ method: 'GET', path: '/', headers: { 'x-envoy-auth-partial-body': 'true' } });
    expect(authz.requests[0].attributes?.request?.http?.headers).not.toHaveProperty('x-envoy-auth-partial-body');
  });

  it('continues on a rate limit error without failure_mode_deny, and applies the service headers when OK', async () => {
    const s = sim({
      ratelimit: { failure_mode_deny: false },
      routes: [route('r', { prefix: '/' }, toCluster('plain', { rate_limits: perIp }))],
    });
    rls.reply = () => ({ error: grpc.status.UNAVAILABLE });
    const failed = await s.request({ method: 'GET', path: '/', headers: external });
    expect(failed.status).toBe(200);
    expect(failed.ratelimit?.error).toMatch(/UNAVAILABLE/);
    rls.reply = () =>
      rateLimitOk({
        requestHeadersToAdd: [{ key: 'x-rl-req', value: '1' }],
        responseHeadersToAdd: [{ key: 'x-rl-resp', value: '2' }],
      });
    const ok = await s.request({ method: 'GET', path: '/', headers: external });
    expect(ok.upstreamHeaders?.['x-rl-req']).toBe('1');
    expect(ok.responseHeaders['x-rl-resp']).toBe('2');
    expect(rls.requests[1].domain).toBe('test');
  });

  it('rate limits a private peer once explicit_internal_address_config is on', async () => {
    const o = {
      routes: [route('r', { prefix: '/' }, toCluster('plain', { rate_limits: perIp }))],
      ratelimit: { request_type: 'external' },
    };
    const legacy = await sim(o).request({ method: 'GET', path: '/', sourceIp: '10.1.1.1' });
    expect(legacy.ratelimit).toEqual({ called: false, skipped: 'internal request (request_type: external)' });
    expect(legacy.upstreamHeaders?.['x-envoy-internal']).toBe('true');
    const explicit = await sim({
      ...o,
      runtime: { 'envoy.reloadable_features.explicit_internal_address_config': true },
    }).request({ method: 'GET', path: '/', sourceIp: '10.1.1.1' });
    expect(explicit.ratelimit?.called).toBe(true);
    expect(explicit.upstreamHeaders).not.toHaveProperty('x-envoy-internal');
    expect(explicit.upstreamHeaders?.['x-envoy-external-address']).toBe('10.1.1.1');
  });

  it('skips internal requests with request_type external', async () => {
    const routes = [route('r', { prefix: '/' }, toCluster('plain', { rate_limits: perIp }))];
    const s = sim({ routes, ratelimit: { request_type: 'external' } });
    const internal = await s.request({ method: 'GET', path: '/', sourceIp: '10.1.1.1' });
    expect(internal.ratelimit).toEqual({ called: false, skipped: 'internal request (request_type: external)' });
    const edge = await s.request({ method: 'GET', path: '/', sourceIp: '203.0.113.1' });
    expect(edge.ratelimit?.descriptors).toEqual([
      [
        { key: 'limit', value: 'ip' },
        { key: 'remote_address', value: '203.0.113.1' },
      ],
    ]);
  });

  it('sanitises Envoy control headers of external requests and regenerates x-request-id at the edge', async () => {
    const s = sim({ routes: [route('r', { prefix: '/' }, toCluster('plain'))], authz: false, ratelimit: false });
    const r = await s.request({
      method: 'GET',
      path: '/',
      sourceIp: '203.0.113.1',
      headers: { 'x-envoy-retry-on': '5xx', 'x-envoy-internal': 'true', 'x-request-id': 'mine', connection: 'close' },
    });
    expect(r.upstreamHeaders).not.toHaveProperty('x-envoy-retry-on');
    expect(r.upstreamHeaders).not.toHaveProperty('x-envoy-internal');
    expect(r.upstreamHeaders).not.toHaveProperty('connection');
    expect(r.upstreamHeaders?.['x-request-id']).not.toBe('mine');
    const internal = await s.request({ method: 'GET', path: '/', headers: { 'x-request-id': 'mine' } });
    expect(internal.upstreamHeaders?.['x-request-id']).toBe('mine');
  });

  it('applies route header mutations and, without suppress_envoy_headers, x-envoy-expected-rq-timeout-ms', async () => {
    const s = sim({
      authz: false,
      ratelimit: false,
      router: { suppress_envoy_headers: false },
      routes: [
        route('r', { prefix: '/' }, toCluster('plain', { timeout: '2s' }), {
          request_headers_to_add: [hv('x-route', '%REQ(:path)%')],
          request_headers_to_remove: ['x-gone'],
          response_headers_to_add: [hv('x-out', 'o')],
        }),
      ],
    });
    const r = await s.request({ method: 'GET', path: '/p', headers: { 'x-gone': '1' } });
    expect(r.upstreamHeaders).toMatchObject({ 'x-route': '/p', 'x-envoy-expected-rq-timeout-ms': '2000' });
    expect(r.upstreamHeaders).not.toHaveProperty('x-gone');
    expect(r.responseHeaders['x-out']).toBe('o');
  });

  it('runs the routed cluster upstream filters, but not the children of an aggregate', async () => {
    const s = sim({
      authz: false,
      ratelimit: false,
      routes: [route('one', { path: '/one' }, toCluster('b1')), route('agg', { path: '/agg' }, toCluster('agg'))],
    });
    const one = await s.request({ method: 'GET', path: '/one', headers: { 'x-secret': 's' } });
    expect(one.upstreamHeaders).toMatchObject({ 'x-b1': 'from-b1:s' });
    expect(one.upstreamHeaders).not.toHaveProperty('x-secret');
    const agg = await s.request({ method: 'GET', path: '/agg', headers: { 'x-secret': 's' } });
    expect(agg).toMatchObject({ cluster: 'agg', backendCluster: 'b1' });
    expect(agg.upstreamHeaders?.['x-secret']).toBe('s');
    expect(agg.upstreamHeaders).not.toHaveProperty('x-b1');
  });

  it('defaults :authority from the first domain and honours host / Host', async () => {
    const s = sim({ authz: false, ratelimit: false, routes: [route('r', { prefix: '/' }, toCluster('plain'))] });
    expect((await s.request({ method: 'GET', path: '/' })).upstreamHeaders?.[':authority']).toBe('gw.test');
    expect((await s.request({ method: 'GET', path: '/', headers: { Host: 'other' } })).status).toBe(404);
    expect((await s.request({ method: 'GET', path: '/', host: 'GW.test' })).status).toBe(200);
  });

  describe('configuration checks', () => {
    const ok = { routes: [route('r', { prefix: '/' }, toCluster('plain'))] };
    it('reads the bootstrap strictly, like Envoy', () => {
      const b = boot(ok) as { static_resources: { clusters: Record<string, unknown>[] } };
      b.static_resources.clusters[2].surprise = true;
      expect(() => new EnvoySimulator(b, opts)).toThrow(SimConfigError);
    });
    it('rejects a route to an unknown cluster', () => {
      expect(() => sim({ routes: [route('r', { prefix: '/' }, toCluster('nope'))] })).toThrow(/unknown cluster "nope"/);
    });
    it('rejects a gRPC service on a cluster that is not HTTP/2', () => {
      expect(() => sim({ ...ok, authz: { grpc_service: { envoy_grpc: { cluster_name: 'plain' } } } })).toThrow(
        /not HTTP\/2/,
      );
    });
    it('refuses what it does not simulate instead of ignoring it', () => {
      expect(() => sim({ ...ok, hcm: { via: 'x' } })).toThrow(SimUnsupportedError);
      expect(() =>
        sim({ routes: [route('r', { prefix: '/' }, toCluster('plain', { prefix_rewrite: '/x' }))] }),
      ).toThrow(/path rewrites/);
      expect(() =>
        sim({
          routes: [
            route('r', { prefix: '/' }, toCluster('plain'), {
              typed_per_filter_config: {
                'envoy.filters.http.ratelimit': {
                  '@type': t('envoy.extensions.filters.http.ratelimit.v3.RateLimitPerRoute'),
                  domain: 'x',
                },
              },
            }),
          ],
        }),
      ).toThrow(/typed_per_filter_config/);
    });
  });
});
