import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FieldRulesSchema } from '../../../common/envoy-api/gen/validate/validate_pb.js';
import { validateEnvoyBootstrap } from './envoy.js';
import { compileField } from './pgv-rules.js';

const FILE = 'envoy/envoy.yaml';

const VALID_YAML = `
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 9901 }
stats_server_version_override: "42"
static_resources:
  listeners:
    - name: ingress
      address:
        socket_address: { address: 0.0.0.0, port_value: 8080 }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ingress_http
                codec_type: AUTO
                stream_idle_timeout: 0.250s
                access_log:
                  - name: envoy.access_loggers.stdout
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog
                      log_format:
                        json_format:
                          start: "%START_TIME%"
                          status: "%RESPONSE_CODE%"
                          nested: { list: [1, "two", true, null] }
                route_config:
                  name: local_route
                  virtual_hosts:
                    - name: llm
                      domains: ["*"]
                      request_headers_to_remove: [x-internal]
                      rate_limits:
                        - actions:
                            - generic_key: { descriptor_value: llm }
                            - remote_address: {}
                            - metadata:
                                descriptor_key: tenant
                                metadata_key:
                                  key: envoy.filters.http.ext_authz
                                  path: [{ key: tenant }]
                                source: DYNAMIC
                      routes:
                        - name: chat
                          match:
                            prefix: /v1/chat
                            headers:
                              - name: x-model
                                string_match: { exact: gpt-4o }
                          route:
                            cluster: openai
                            timeout: 60s
                            retry_policy:
                              retry_on: 5xx,reset,connect-failure
                              num_retries: 2
                              per_try_timeout: 20s
                              retry_back_off: { base_interval: 0.1s, max_interval: 1s }
                          typed_per_filter_config:
                            envoy.filters.http.ext_authz:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
                              check_settings:
                                context_extensions: { route: chat, tier: gold }
                        - match: { prefix: /v1/embeddings }
                          route:
                            weighted_clusters:
                              clusters:
                                - { name: openai, weight: 80 }
                                - { name: fallback, weight: 20 }
                        - match: { path: /healthz }
                          direct_response: { status: 200, body: { inline_string: ok } }
                http_filters:
                  - name: envoy.filters.http.ext_authz
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
                      grpc_service:
                        envoy_grpc: { cluster_name: ext_authz }
                        timeout: 0.5s
                      transport_api_version: V3
                      failure_mode_allow: false
                  - name: envoy.filters.http.ratelimit
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit
                      domain: llm
                      enable_x_ratelimit_headers: DRAFT_VERSION_03
                      rate_limit_service:
                        grpc_service:
                          envoy_grpc: { cluster_name: ratelimit }
                        transport_api_version: V3
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    - name: openai
      type: STRICT_DNS
      connect_timeout: 5s
      lb_policy: ROUND_ROBIN
      load_assignment:
        cluster_name: openai
        endpoints:
          - priority: 0
            lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: api.openai.com, port_value: 443 }
          - priority: 1
            lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: backup.openai.com, port_value: 443 }
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
          sni: api.openai.com
      health_checks:
        - timeout: 1s
          interval: 5s
          unhealthy_threshold: 3
          healthy_threshold: 1
          http_health_check: { path: /healthz }
      outlier_detection:
        consecutive_5xx: 5
        interval: 10s
        base_ejection_time: 30s
        max_ejection_percent: 50
    - name: fallback
      type: STRICT_DNS
      connect_timeout: 5s
      load_assignment:
        cluster_name: fallback
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: fallback.internal, port_value: 8000 }
    - name: ext_authz
      type: STRICT_DNS
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {}
      load_assignment:
        cluster_name: ext_authz
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: ext-authz, port_value: 9000 }
    - name: ratelimit
      type: STRICT_DNS
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {}
      load_assignment:
        cluster_name: ratelimit
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: ratelimit, port_value: 8081 }
`;

// biome-ignore lint/suspicious/noExplicitAny: tests poke into the parsed YAML freely
type Doc = any;

function validDoc(): Doc {
  return parse(VALID_YAML);
}

const HCM_PATH = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config<HttpConnectionManager>';
const hcm = (doc: Doc) => doc.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const routes = (doc: Doc) => hcm(doc).route_config.virtual_hosts[0].routes;
const ROUTES_PATH = `${HCM_PATH}.route_config.virtual_hosts[0].routes`;

/** Validates a copy of the valid bootstrap changed by `edit`. */
function problemsAfter(edit: (doc: Doc) => void) {
  const doc = validDoc();
  edit(doc);
  return validateEnvoyBootstrap(doc, FILE).map(({ path, message }) => ({ path, message }));
}

describe('validateEnvoyBootstrap: valid documents', () => {
  it('accepts a realistic bootstrap', () => {
    expect(validateEnvoyBootstrap(validDoc(), FILE)).toEqual([]);
  });

  it('does not change its input', () => {
    const doc = validDoc();
    validateEnvoyBootstrap(doc, FILE);
    expect(doc).toEqual(validDoc());
  });

  it('accepts lowerCamelCase (JSON) field names', () => {
    const doc = {
      staticResources: {
        listeners: [
          {
            name: 'l',
            address: { socketAddress: { address: '0.0.0.0', portValue: 8080 } },
            filterChains: [
              {
                filters: [
                  {
                    name: 'envoy.filters.network.http_connection_manager',
                    typedConfig: {
                      '@type':
                        'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                      statPrefix: 'in',
                      routeConfig: {
                        virtualHosts: [
                          { name: 'v', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'c' } }] },
                        ],
                      },
                      httpFilters: [
                        {
                          name: 'envoy.filters.http.router',
                          typedConfig: {
                            '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                          },
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
        clusters: [{ name: 'c', connectTimeout: '1s', loadAssignment: { clusterName: 'c' } }],
      },
    };
    expect(validateEnvoyBootstrap(doc, FILE)).toEqual([]);
  });

  it('accepts 64-bit integers as strings and numbers, wrappers as bare scalars', () => {
    expect(problemsAfter((d) => (d.stats_server_version_override = 7))).toEqual([]);
    expect(problemsAfter((d) => (d.stats_server_version_override = '18446744073709551615'))).toEqual([]);
  });

  it('accepts enums given by number', () => {
    expect(problemsAfter((d) => (d.static_resources.clusters[0].type = 1))).toEqual([]);
  });

  it('skips string rules on empty values with ignore_empty, applies the strict header-name rule otherwise', () => {
    const geoip = (country: string) => (d: Doc) => {
      hcm(d).http_filters[0].typed_config = {
        '@type': 'type.googleapis.com/envoy.extensions.geoip_providers.maxmind.v3.MaxMindConfig',
        city_db_path: '/data/city.mmdb',
        common_provider_config: { geo_headers_to_add: { country } },
      };
    };
    expect(problemsAfter(geoip('x-geo-country'))).toEqual([]);
    expect(problemsAfter(geoip(''))).toEqual([]);
    expect(problemsAfter(geoip('x geo'))).toEqual([
      {
        path: `${HCM_PATH}.http_filters[0].typed_config<MaxMindConfig>.common_provider_config.geo_headers_to_add.country`,
        message: 'must be a valid HTTP header name',
      },
    ]);
  });
});

describe('validateEnvoyBootstrap: problems', () => {
  it('reports an unknown field deep inside, with its exact path', () => {
    expect(problemsAfter((d) => (routes(d)[1].route.weighted_clusters.clusters[1].wieght = 3))).toEqual([
      {
        path: `${ROUTES_PATH}[1].route.weighted_clusters.clusters[1].wieght`,
        message: 'unknown field "wieght" (envoy.config.route.v3.WeightedCluster.ClusterWeight)',
      },
    ]);
  });

  it('reports an unknown @type', () => {
    const url = 'type.googleapis.com/envoy.extensions.filters.http.nope.v3.Nope';
    expect(problemsAfter((d) => (hcm(d).http_filters[2].typed_config['@type'] = url))).toEqual([
      { path: `${HCM_PATH}.http_filters[2].typed_config.@type`, message: `unknown type "${url}"` },
    ]);
  });

  it('reports a missing @type', () => {
    expect(problemsAfter((d) => delete hcm(d).http_filters[2].typed_config['@type'])).toEqual([
      { path: `${HCM_PATH}.http_filters[2].typed_config`, message: '"@type" is required' },
    ]);
  });

  it('reports a type URL without the type.googleapis.com/ prefix', () => {
    const problems = problemsAfter(
      (d) => (hcm(d).http_filters[2].typed_config['@type'] = 'envoy.extensions.filters.http.router.v3.Router'),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toContain('must start with "type.googleapis.com/"');
  });

  it('reports wrong JSON types', () => {
    expect(
      problemsAfter((d) => {
        routes(d)[0].route = 'openai';
        d.static_resources.clusters[0].connect_timeout = 5;
        d.admin.address.socket_address.port_value = { port: 1 };
        d.static_resources.clusters[0].health_checks = { timeout: '1s' };
      }),
    ).toEqual([
      { path: 'admin.address.socket_address.port_value', message: 'expected uint32, got object' },
      {
        path: `${ROUTES_PATH}[0].route`,
        message: 'expected object (envoy.config.route.v3.RouteAction), got string "openai"',
      },
      {
        path: 'static_resources.clusters[0].connect_timeout',
        message: 'expected a duration like "5s" or "0.250s", got number 5',
      },
      { path: 'static_resources.clusters[0].health_checks', message: 'expected array, got object' },
    ]);
  });

  it('reports a bad enum name', () => {
    const problems = problemsAfter((d) => (d.static_resources.clusters[0].type = 'STRICT_DNZ'));
    expect(problems).toHaveLength(1);
    expect(problems[0].path).toBe('static_resources.clusters[0].type');
    expect(problems[0].message).toMatch(
      /^unknown value "STRICT_DNZ" for enum envoy\.config\.cluster\.v3\.Cluster\.DiscoveryType/,
    );
  });

  it('reports two members of one oneof', () => {
    expect(problemsAfter((d) => (routes(d)[0].redirect = { path_redirect: '/x' }))).toEqual([
      {
        path: `${ROUTES_PATH}[0].redirect`,
        message: 'conflicts with "route": only one field of oneof "action" may be set',
      },
    ]);
  });

  it('reports a port above 65535', () => {
    expect(
      problemsAfter(
        (d) =>
          (d.static_resources.clusters[0].load_assignment.endpoints[1].lb_endpoints[0].endpoint.address.socket_address.port_value = 70000),
      ),
    ).toEqual([
      {
        path: 'static_resources.clusters[0].load_assignment.endpoints[1].lb_endpoints[0].endpoint.address.socket_address.port_value',
        message: 'must be less than or equal to 65535',
      },
    ]);
  });

  it('reports an empty or missing cluster name (rules apply to proto3 defaults)', () => {
    const expected = [{ path: 'static_resources.clusters[1].name', message: 'length must be at least 1' }];
    expect(problemsAfter((d) => (d.static_resources.clusters[1].name = ''))).toEqual(expected);
    expect(problemsAfter((d) => delete d.static_resources.clusters[1].name)).toEqual(expected);
  });

  it('reports a zero duration where more than 0s is required', () => {
    expect(problemsAfter((d) => (d.static_resources.clusters[0].connect_timeout = '0s'))).toEqual([
      { path: 'static_resources.clusters[0].connect_timeout', message: 'must be greater than 0s' },
    ]);
  });

  it('reports a route without an action (required oneof)', () => {
    expect(problemsAfter((d) => delete routes(d)[0].route)).toEqual([
      {
        path: `${ROUTES_PATH}[0]`,
        message:
          'one of "route", "redirect", "direct_response", "filter_action", "non_forwarding_action" is required (oneof "action")',
      },
    ]);
  });

  it('reports a missing required message', () => {
    expect(problemsAfter((d) => delete d.static_resources.clusters[0].health_checks[0].unhealthy_threshold)).toEqual([
      { path: 'static_resources.clusters[0].health_checks[0].unhealthy_threshold', message: 'is required' },
    ]);
  });

  it('reports too few items (virtual host domains)', () => {
    const expected = [
      { path: `${HCM_PATH}.route_config.virtual_hosts[0].domains`, message: 'must have at least 1 item' },
    ];
    expect(problemsAfter((d) => (hcm(d).route_config.virtual_hosts[0].domains = []))).toEqual(expected);
    expect(problemsAfter((d) => delete hcm(d).route_config.virtual_hosts[0].domains)).toEqual(expected);
  });

  it('reports header names with a newline', () => {
    expect(
      problemsAfter((d) => {
        routes(d)[0].match.headers[0].name = 'x-model\n';
        hcm(d).route_config.virtual_hosts[0].request_headers_to_remove.push('x-bad\r\n');
      }),
    ).toEqual([
      {
        path: `${HCM_PATH}.route_config.virtual_hosts[0].request_headers_to_remove[1]`,
        message: 'must not contain NUL, CR or LF',
      },
      { path: `${ROUTES_PATH}[0].match.headers[0].name`, message: 'must not contain NUL, CR or LF' },
    ]);
  });

  it('applies scalar rules to wrapper values', () => {
    expect(problemsAfter((d) => (d.static_resources.clusters[0].outlier_detection.max_ejection_percent = 101))).toEqual(
      [
        {
          path: 'static_resources.clusters[0].outlier_detection.max_ejection_percent',
          message: 'must be less than or equal to 100',
        },
      ],
    );
  });

  it('reports bad 64-bit integers and a field set by both of its names', () => {
    expect(
      problemsAfter((d) => {
        d.stats_server_version_override = '12x';
        d.static_resources.clusters[0].connectTimeout = '1s';
      }),
    ).toEqual([
      { path: 'stats_server_version_override', message: 'expected uint64, got string "12x"' },
      {
        path: 'static_resources.clusters[0].connectTimeout',
        message: 'field "connect_timeout" is set twice (as "connect_timeout" and "connectTimeout")',
      },
    ]);
  });

  it('reports a pattern mismatch inside an Any', () => {
    expect(
      problemsAfter((d) => {
        hcm(d).http_filters[0].typed_config = {
          '@type': 'type.googleapis.com/envoy.extensions.geoip_providers.maxmind.v3.MaxMindConfig',
          city_db_path: '/data/city.db',
        };
      }),
    ).toEqual([
      {
        path: `${HCM_PATH}.http_filters[0].typed_config<MaxMindConfig>.city_db_path`,
        message: 'must match pattern "^$|^.*\\\\.mmdb$"',
      },
      {
        path: `${HCM_PATH}.http_filters[0].typed_config<MaxMindConfig>.common_provider_config`,
        message: 'is required',
      },
    ]);
  });

  it('keeps going after the first problem', () => {
    const problems = problemsAfter((d) => {
      d.static_resources.clusters[0].bogus = true;
      d.static_resources.clusters[1].connect_timeout = '-1s';
      routes(d)[2].direct_response.status = 99;
    });
    expect(problems.map((p) => p.path)).toEqual([
      `${ROUTES_PATH}[2].direct_response.status`,
      'static_resources.clusters[0].bogus',
      'static_resources.clusters[1].connect_timeout',
    ]);
    expect(problems[0].message).toBe('must be greater than or equal to 200 and less than 600');
  });

  it('turns an exception of protobuf-es fromJson into a problem (belt and braces)', () => {
    // null counts as "not set" for the walk, but protobuf-es still sees two members of the oneof.
    const problems = problemsAfter((d) => (routes(d)[0].redirect = null));
    expect(problems).toHaveLength(1);
    expect(problems[0].path).toBe('');
    expect(problems[0].message).toMatch(/^not a valid Bootstrap: .*oneof set multiple times/);
  });

  it('rejects a document that is not an object', () => {
    expect(validateEnvoyBootstrap('nope', FILE)).toEqual([
      { file: FILE, path: '', message: 'expected object (envoy.config.bootstrap.v3.Bootstrap), got string "nope"' },
    ]);
  });
});

describe('protoc-gen-validate rules', () => {
  const messages = (rules: MessageInitShape<typeof FieldRulesSchema>, value: unknown) => {
    const out: string[] = [];
    compileField(create(FieldRulesSchema, rules), undefined).value?.(value, (m) => out.push(m));
    return out;
  };

  it('reads ranges: between, half-open and the exclusive range outside (lt < gt)', () => {
    const between = { type: { case: 'uint32' as const, value: { gte: 1, lte: 65535 } } };
    expect(messages(between, 0)).toEqual(['must be between 1 and 65535']);
    expect(messages(between, 65535)).toEqual([]);
    const halfOpen = { type: { case: 'int32' as const, value: { gte: 200, lt: 600 } } };
    expect(messages(halfOpen, 600)).toEqual(['must be greater than or equal to 200 and less than 600']);
    const outside = { type: { case: 'int64' as const, value: { lt: 10n, gt: 20n } } };
    expect(messages(outside, 5n)).toEqual([]);
    expect(messages(outside, 25n)).toEqual([]);
    expect(messages(outside, 15n)).toEqual(['must be less than 10 or greater than 20']);
  });

  it('treats unset proto2 rule fields as absent, not as their zero value', () => {
    // gt is unset (not 0): only lte applies.
    expect(messages({ type: { case: 'uint32', value: { lte: 5 } } }, 0)).toEqual([]);
  });

  it('checks in / not_in, const, and string affixes', () => {
    expect(messages({ type: { case: 'string', value: { in: ['a', 'b'] } } }, 'c')).toEqual([
      'must be one of ["a", "b"]',
    ]);
    expect(messages({ type: { case: 'uint32', value: { notIn: [7] } } }, 7)).toEqual(['must not be 7']);
    expect(messages({ type: { case: 'bool', value: { const: true } } }, false)).toEqual(['must be true']);
    expect(messages({ type: { case: 'string', value: { prefix: '/', suffix: '.mmdb' } } }, 'x')).toEqual([
      'must start with "/"',
      'must end with ".mmdb"',
    ]);
    expect(messages({ type: { case: 'string', value: { maxBytes: 3n } } }, 'äää')).toEqual([
      'byte length must be at most 3',
    ]);
    expect(messages({ type: { case: 'string', value: { maxLen: 3n } } }, 'äää')).toEqual([]);
  });

  it('compares durations', () => {
    const rules = {
      type: { case: 'duration' as const, value: { gte: { seconds: 1n }, lt: { nanos: 0, seconds: 2n } } },
    };
    expect(messages(rules, 1_500_000_000n)).toEqual([]);
    expect(messages(rules, 250_000_000n)).toEqual(['must be greater than or equal to 1s and less than 2s']);
  });
});
