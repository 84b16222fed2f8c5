import type { FlagSpec } from '../../common/service-runtime/index.js';

export interface Settings {
  config: string;
  grpcPort: number;
  httpPort: number;
  host: string;
  maxBodyBytes: number;
}

export const settingsSpec: { [K in keyof Settings]: FlagSpec } = {
  config: {
    flag: 'config',
    env: 'AUTHZ_CONFIG',
    type: 'string',
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
  maxBodyBytes: {
    flag: 'max-body-bytes',
    env: 'MAX_BODY_BYTES',
    type: 'int',
    default: 262_144,
    help: 'Largest request body inspected.',
  },
};
