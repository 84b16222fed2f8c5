// The shape of gateway.yaml once the JSON Schema has accepted it (field names as written).
export interface RawSecretRef {
  secret?: { name: string; key: string };
  file?: string;
  env?: string;
}
export interface RawStringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}
export interface RawRoute {
  name: string;
  listener?: string;
  match: {
    path: RawStringMatch;
    methods?: string[];
    headers?: (RawStringMatch & { name: string; present?: boolean })[];
    body?: Record<string, string | string[]>;
    personal_data?: boolean;
  };
  backend?: string;
  backends?: { name: string; weight: number }[];
  failover?: string[];
  timeout?: string;
  streaming?: boolean;
  idle_timeout?: string;
  retries?: { attempts?: number; on?: string[]; backoff?: { base?: string; max?: string }; per_try_timeout?: string };
  auth: 'anonymous' | { api_key?: boolean; jwt?: string[]; clients?: string[]; tenants?: string[]; scopes?: string[] };
  models?: string[];
  personal_data?: 'allow' | 'deny';
}
export interface RawLimit {
  name: string;
  per: string | string[];
  requests?: string;
  tokens?: string;
  routes?: string[];
  overrides?: Record<string, string>;
  only_overrides?: boolean;
  shadow?: boolean;
  algorithm?: 'fixed_window' | 'sliding_window' | 'token_bucket';
}
export interface RawGateway {
  version: 1;
  gateway?: { name?: string; namespace?: string };
  listeners: { name: string; port: number; address?: string; hosts?: string[]; trusted_proxies?: number }[];
  backends: {
    name: string;
    kind?: 'openai-compatible' | 'anthropic' | 'http';
    url: string;
    connect_timeout?: string;
    credential?: RawSecretRef;
    credential_header?: string;
    health_check?: {
      path: string;
      interval?: string;
      timeout?: string;
      unhealthy_threshold?: number;
      healthy_threshold?: number;
    };
    max_connections?: number;
    sni?: string;
  }[];
  clients?: { name: string; tenant: string; models?: string[]; keys: { sha256: string; expires?: string }[] }[];
  jwt_providers?: {
    name: string;
    issuer: string;
    audiences: string[];
    algorithms: string[];
    jwks: { url?: string; file?: string; cache?: string };
    claims?: { client?: string; tenant?: string; scopes?: string };
    clock_skew?: string;
  }[];
  routes: RawRoute[];
  limits?: RawLimit[];
  personal_data?: { detect?: string[]; patterns?: { name: string; regex: string }[] };
  outputs?: ('kubernetes' | 'ingress-nginx' | 'gateway-api' | 'kong')[];
  kubernetes?: {
    images?: Partial<Record<'envoy' | 'ext_authz' | 'ratelimit' | 'redis', string>>;
    resources?: Partial<Record<'envoy' | 'ext_authz' | 'ratelimit' | 'redis', { cpu?: string; memory?: string }>>;
    max_replicas?: number;
    ingress?: { host?: string; class?: string; tls_secret?: string; gateway_class?: string };
    resource_quota?: { cpu?: string; memory?: string };
    alerts?: { p95_latency?: string; token_budget_ratio?: number };
  };
  services?: {
    redis?: { url?: string; cluster?: string[]; password?: RawSecretRef; when_down?: 'error' | 'allow' | 'local' };
    ratelimit?: { domain?: string; address?: string; replicas?: number; timeout?: string; on_error?: 'deny' | 'allow' };
    ext_authz?: { address?: string; replicas?: number; timeout?: string; max_body_bytes?: number };
    envoy?: { replicas?: number; admin_port?: number };
  };
}
