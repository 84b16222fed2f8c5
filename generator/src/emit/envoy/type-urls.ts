// The @type of every typed_config the generator writes.
const t = (name: string) => `type.googleapis.com/${name}`;

export const typeUrls = {
  httpConnectionManager: t('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager'),
  extAuthz: t('envoy.extensions.filters.http.ext_authz.v3.ExtAuthz'),
  extAuthzPerRoute: t('envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute'),
  rateLimit: t('envoy.extensions.filters.http.ratelimit.v3.RateLimit'),
  router: t('envoy.extensions.filters.http.router.v3.Router'),
  headerMutation: t('envoy.extensions.filters.http.header_mutation.v3.HeaderMutation'),
  upstreamCodec: t('envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec'),
  earlyHeaderMutation: t('envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation'),
  stdoutAccessLog: t('envoy.extensions.access_loggers.stream.v3.StdoutAccessLog'),
  upstreamTls: t('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext'),
  httpProtocolOptions: t('envoy.extensions.upstreams.http.v3.HttpProtocolOptions'),
  aggregateCluster: t('envoy.extensions.clusters.aggregate.v3.ClusterConfig'),
  previousPriorities: t('envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig'),
  previousHosts: t('envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate'),
};

export const filterNames = {
  httpConnectionManager: 'envoy.filters.network.http_connection_manager',
  extAuthz: 'envoy.filters.http.ext_authz',
  rateLimit: 'envoy.filters.http.ratelimit',
  router: 'envoy.filters.http.router',
  headerMutation: 'envoy.filters.http.header_mutation',
  upstreamCodec: 'envoy.filters.http.upstream_codec',
};

export type Json = Record<string, unknown>;
