import type { FlagSpec } from '../../common/service-runtime/index.js';

export interface Settings {
  config: string;
  grpcPort: number;
  httpPort: number;
  host: string;
  maxBodyBytes: number;
  workers: number;
  ratelimit: string;
  ratelimitTimeoutMs: number;
}

export const settingsSpec: { [K in keyof Settings]: FlagSpec } = {
  config: {
    flag: 'config',
    env: 'AUTHZ_CONFIG',
    type: 'string',
    required: true,
    help: 'policy.yaml written by gen build (hot reloaded).',
  },
  grpcPort: {
    flag: 'grpc-port',
    env: 'GRPC_PORT',
    type: 'int',
    default: 9001,
    help: 'gRPC port (Authorization/Check, health).',
  },
  httpPort: {
    flag: 'http-port',
    env: 'HTTP_PORT',
    type: 'int',
    default: 9002,
    help: 'HTTP port (/check, /healthz, /readyz, /metrics).',
  },
  host: { flag: 'host', env: 'HOST', type: 'string', default: '0.0.0.0', help: 'Address to listen on.' },
  workers: {
    flag: 'workers',
    env: 'AUTHZ_WORKERS',
    type: 'int',
    default: 1,
    help: 'Processes sharing the gRPC port (use the cores); with more than 1, the first one serves the HTTP port.',
  },
  ratelimit: {
    flag: 'ratelimit',
    env: 'RATELIMIT_ADDRESS',
    type: 'string',
    default: '',
    help: 'host:port of the rate-limit service, to charge token quotas (routes with token limits).',
  },
  ratelimitTimeoutMs: {
    flag: 'ratelimit-timeout-ms',
    env: 'RATELIMIT_TIMEOUT_MS',
    type: 'int',
    default: 100,
    help: 'Longest wait for a token-quota answer.',
  },
  maxBodyBytes: {
    flag: 'max-body-bytes',
    env: 'MAX_BODY_BYTES',
    type: 'int',
    default: 262_144,
    help: 'Largest request body inspected.',
  },
};
