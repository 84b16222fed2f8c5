// Command-line flags and their environment variables (flags win).
import type { FlagSpec } from '../../common/service-runtime/index.js';

export interface Settings {
  config: string;
  redis: string;
  redisPassword: string;
  grpcPort: number;
  httpPort: number;
  host: string;
  workers: number;
  replicas: number;
  keyPrefix: string;
  redisTimeoutMs: number;
  responseHeaders: boolean;
  shadowMode: boolean;
  localCache: boolean;
}

export const settingsSpec: { [K in keyof Settings]: FlagSpec } = {
  config: {
    flag: 'config',
    env: 'RLS_CONFIG',
    type: 'string',
    required: true,
    help: 'Config file, or directory of config files (one domain each).',
  },
  redis: {
    flag: 'redis',
    env: 'REDIS_URL',
    type: 'string',
    default: '',
    help: 'redis://[user:pass@]host:port, rediss://…, or several comma-separated node URLs / redis+cluster://h1:p1,h2:p2 for a Cluster. Empty: in-memory (one process).',
  },
  redisPassword: {
    flag: 'redis-password',
    env: 'REDIS_PASSWORD',
    type: 'string',
    default: '',
    help: 'Redis password (or "user:password"), kept out of the URL: e.g. from a Kubernetes Secret.',
  },
  grpcPort: {
    flag: 'grpc-port',
    env: 'GRPC_PORT',
    type: 'int',
    default: 8081,
    help: 'gRPC port (ShouldRateLimit, health).',
  },
  httpPort: {
    flag: 'http-port',
    env: 'HTTP_PORT',
    type: 'int',
    default: 8080,
    help: 'HTTP port (/healthz, /readyz, /metrics).',
  },
  host: { flag: 'host', env: 'HOST', type: 'string', default: '0.0.0.0', help: 'Address to listen on.' },
  workers: {
    flag: 'workers',
    env: 'RLS_WORKERS',
    type: 'int',
    default: 1,
    help: 'Worker processes sharing the gRPC port (use the cores).',
  },
  replicas: {
    flag: 'replicas',
    env: 'RLS_REPLICAS',
    type: 'int',
    default: 1,
    help: 'Replicas of this service: with failure_mode local, each process enforces 1/(replicas × workers) of a limit.',
  },
  keyPrefix: {
    flag: 'key-prefix',
    env: 'CACHE_KEY_PREFIX',
    type: 'string',
    default: '',
    help: 'Prefix of every Redis key.',
  },
  redisTimeoutMs: {
    flag: 'redis-timeout-ms',
    env: 'REDIS_TIMEOUT_MS',
    type: 'int',
    default: 200,
    help: 'Longest wait for Redis per call.',
  },
  responseHeaders: {
    flag: 'response-headers',
    env: 'LIMIT_RESPONSE_HEADERS_ENABLED',
    type: 'bool',
    default: false,
    help: 'Add RateLimit-Limit/Remaining/Reset (and Retry-After when over) to responses.',
  },
  shadowMode: {
    flag: 'shadow-mode',
    env: 'SHADOW_MODE',
    type: 'bool',
    default: false,
    help: 'Never answer OVER_LIMIT overall (statuses still tell).',
  },
  localCache: {
    flag: 'local-cache',
    env: 'LOCAL_CACHE',
    type: 'bool',
    default: true,
    help: 'Remember keys over their limit until the window ends.',
  },
};
