// The normalised gateway model: every default filled in, every reference resolved and checked.
// Emitters read only this.

export type LimitKey = 'ip' | 'client' | 'tenant' | 'route' | 'model';
export type RateUnit = 'second' | 'minute' | 'hour' | 'day';
export type SecretSource =
  | { kind: 'secret'; name: string; key: string }
  | { kind: 'file'; path: string }
  | { kind: 'env'; name: string };

export interface StringMatch {
  kind: 'exact' | 'prefix' | 'regex';
  value: string;
}

export interface HeaderMatch {
  name: string;
  /** undefined with `present` set: a presence check only. */
  match?: StringMatch;
  present?: boolean;
}

export interface Listener {
  name: string;
  address: string;
  port: number;
  hosts: string[];
  trustedProxies: number;
}

export interface Backend {
  name: string;
  kind: 'openai-compatible' | 'anthropic' | 'http';
  scheme: 'http' | 'https';
  host: string;
  port: number;
  sni: string;
  connectTimeoutMs: number;
  maxConnections: number;
  healthCheck?: {
    path: string;
    intervalMs: number;
    timeoutMs: number;
    unhealthyThreshold: number;
    healthyThreshold: number;
  };
  credential?: { source: SecretSource; header: string; prefix: string };
}

export interface RouteMatch {
  path: StringMatch;
  methods?: string[];
  headers: HeaderMatch[];
  /** Top-level JSON body field → accepted values. Empty when the route does not look at the body. */
  body: Record<string, string[]>;
  personalData?: boolean;
}

export type RouteAction =
  | { kind: 'single'; backend: string; failover: string[] }
  | { kind: 'split'; backends: { name: string; weight: number }[] };

export interface RouteAuth {
  anonymous: boolean;
  apiKey: boolean;
  jwt: string[];
  clients: string[];
  tenants: string[];
  scopes: string[];
}

export interface Retries {
  attempts: number;
  on: string[];
  baseMs: number;
  maxMs: number;
  perTryTimeoutMs?: number;
}

export interface RateAmount {
  amount: number;
  unit: RateUnit;
}

export interface Limit {
  name: string;
  per: LimitKey[];
  kind: 'requests' | 'tokens';
  rate?: RateAmount;
  overrides: { value: string; rate: RateAmount }[];
  routes: string[];
  shadow: boolean;
  algorithm?: 'fixed_window' | 'sliding_window' | 'token_bucket';
}

export interface Route {
  name: string;
  /** Position in gateway.yaml's routes list. */
  index: number;
  listener: string;
  match: RouteMatch;
  action: RouteAction;
  timeoutMs: number;
  idleTimeoutMs?: number;
  streaming: boolean;
  retries?: Retries;
  auth: RouteAuth;
  models: string[];
  personalData: 'allow' | 'deny';
  /** The body field holding the model name, for routes whose backends speak an LLM API. */
  modelField?: string;
  /** Names of the limits (requests and tokens) that apply here, in gateway.yaml order. */
  limits: string[];
  /** Set when the route is chosen on body content: the dispatch group it belongs to. */
  dispatchGroup?: string;
}

/**
 * Routes that share path, method and header matches and differ only in what ext-authz reads
 * from the body (body fields, personal data). Envoy first matches the group's dispatch route;
 * ext-authz reads the body, applies the policy of the member that matches and sets the headers
 * that make Envoy's second match land on that member.
 */
export interface DispatchGroup {
  id: string;
  listener: string;
  match: Pick<RouteMatch, 'path' | 'methods' | 'headers'>;
  members: string[];
  fields: string[];
  personalData: boolean;
}

export interface Services {
  redis: {
    url?: string;
    cluster?: string[];
    password?: SecretSource;
    whenDown: 'error' | 'allow' | 'local';
    inCluster: boolean;
  };
  ratelimit: {
    domain: string;
    host: string;
    port: number;
    replicas: number;
    timeoutMs: number;
    onError: 'deny' | 'allow';
  };
  extAuthz: { host: string; port: number; replicas: number; timeoutMs: number; maxBodyBytes: number };
  envoy: { replicas: number; adminPort: number; statsPort: number };
}

export type Component = 'envoy' | 'ext_authz' | 'ratelimit' | 'redis';

export interface KubernetesSettings {
  images: Record<Component, string>;
  resources: Record<Component, { cpu: string; memory: string }>;
  maxReplicas?: number;
  ingress: { host?: string; class: string; tlsSecret?: string; gatewayClass: string };
  resourceQuota?: { cpu?: string; memory?: string };
  alerts: { p95LatencySeconds: number; tokenBudgetRatio: number };
}

export interface GatewayModel {
  name: string;
  namespace: string;
  listeners: Listener[];
  backends: Backend[];
  clients: { name: string; tenant: string; models: string[]; keys: { sha256: string; expires?: string }[] }[];
  jwtProviders: {
    name: string;
    issuer: string;
    audiences: string[];
    algorithms: string[];
    jwks: { url?: string; file?: string; cacheMs: number };
    claims: { client: string; tenant: string; scopes: string };
    clockSkewMs: number;
  }[];
  routes: Route[];
  dispatchGroups: DispatchGroup[];
  limits: Limit[];
  personalData: { detect: string[]; patterns: { name: string; regex: string }[] };
  services: Services;
  kubernetes: KubernetesSettings;
  /** Deployment outputs to write (ingress-nginx and gateway-api bring kubernetes with them). */
  outputs: DeploymentOutput[];
}

export type DeploymentOutput = 'kubernetes' | 'ingress-nginx' | 'gateway-api' | 'kong';
export const deploymentOutputs: readonly DeploymentOutput[] = ['kubernetes', 'ingress-nginx', 'gateway-api', 'kong'];
