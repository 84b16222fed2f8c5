// The simulator's public request/result types.

export interface SimRequest {
  /** The listener's port; default: the first listener of the bootstrap. */
  listenerPort?: number;
  method: string;
  /** The request target as sent (path and query), e.g. "/v1/chat/completions?x=1". */
  path: string;
  /** :authority; default: a `host` entry of `headers`, else the first non-wildcard domain of the listener's first virtual host. */
  host?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON (content-type: application/json unless given). A body adds content-length. */
  body?: string | object;
  /** The TCP peer address; default 10.0.0.1. */
  sourceIp?: string;
}

export interface SimResult {
  /** The final HTTP status the client gets (200 when routed to a backend; backends are not called). */
  status: number;
  /** The final route name (after any re-route by ext_authz's clear_route_cache). */
  route?: string;
  /** The route matched before ext_authz. */
  firstRoute?: string;
  /** The route's cluster (for weighted_clusters: the picked one). */
  cluster?: string;
  /** The backend cluster: an aggregate cluster's first (priority 0) cluster; for weighted_clusters the one picked. */
  backendCluster?: string;
  /**
   * Request headers as the backend receives them (pseudo-headers included), after the connection
   * manager, ext_authz, the rate limit service's request_headers_to_add, the route's header
   * mutations and the upstream http_filters. A repeated header is joined with ",".
   */
  upstreamHeaders?: Record<string, string>;
  /** Response headers Envoy sets (local replies, rate limit headers, ...). A repeated header is joined with ", ". */
  responseHeaders: Record<string, string>;
  /** The body of a response Envoy generated itself (denial, direct_response, 413, ...). */
  body?: string;
  authz?: { called: boolean; allowed?: boolean; metadata?: Record<string, unknown>; error?: string };
  ratelimit?: {
    called: boolean;
    overall?: 'OK' | 'OVER_LIMIT';
    descriptors?: { key: string; value: string }[][];
    error?: string;
    /** Why the filter did not call the service (e.g. "internal request"). */
    skipped?: string;
  };
}

export interface SimOptions {
  authz: { host: string; port: number };
  ratelimit: { host: string; port: number };
  /** A number in [0, 1) picking among weighted_clusters; default Math.random. */
  pick?: () => number;
}
