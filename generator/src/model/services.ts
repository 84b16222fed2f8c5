import type { BuildContext } from './context.js';
import type { RawGateway } from './raw.js';
import { secretSource } from './secrets.js';
import type { Services } from './types.js';
import { durationMs } from './units.js';

function hostPort(address: string | undefined, fallback: string): { host: string; port: number } {
  const [host, port] = (address ?? fallback).split(':');
  return { host, port: Number(port) };
}

export function buildServices(ctx: BuildContext, raw: RawGateway, namespace: string): Services {
  const s = raw.services ?? {};
  const redis = s.redis ?? {};
  if (redis.url !== undefined && redis.cluster !== undefined) {
    ctx.error(['services', 'redis'], 'services.redis: set either url or cluster, not both');
  }
  const rl = hostPort(s.ratelimit?.address, `ratelimit.${namespace}.svc.cluster.local:8081`);
  const az = hostPort(s.ext_authz?.address, `ext-authz.${namespace}.svc.cluster.local:9001`);
  for (const [svc, hp] of [
    ['ratelimit', rl],
    ['ext_authz', az],
  ] as const) {
    if (hp.port < 1 || hp.port > 65535)
      ctx.error(['services', svc, 'address'], `services.${svc}.address: port ${hp.port} is out of range`);
  }
  const timeouts = { ratelimit: s.ratelimit?.timeout ?? '100ms', ext_authz: s.ext_authz?.timeout ?? '250ms' };
  for (const [svc, t] of Object.entries(timeouts)) {
    if (durationMs(t) <= 0) ctx.error(['services', svc, 'timeout'], `services.${svc}.timeout: must be more than 0s`);
  }
  const adminPort = s.envoy?.admin_port ?? 9901;
  const ports = new Map<number, string>();
  for (const l of raw.listeners) ports.set(l.port, `listener "${l.name}"`);
  if (ports.has(adminPort))
    ctx.error(
      ['services', 'envoy', 'admin_port'],
      `services.envoy.admin_port: ${adminPort} is also the port of ${ports.get(adminPort)}`,
    );
  return {
    redis: {
      url: redis.url,
      cluster: redis.cluster,
      password: redis.password
        ? secretSource(ctx, redis.password, ['services', 'redis', 'password'], 'services.redis.password')
        : undefined,
      whenDown: redis.when_down ?? 'error',
      inCluster: redis.url === undefined && redis.cluster === undefined,
    },
    ratelimit: {
      domain: s.ratelimit?.domain ?? 'ai-gateway',
      ...rl,
      replicas: s.ratelimit?.replicas ?? 2,
      timeoutMs: durationMs(timeouts.ratelimit),
      onError: s.ratelimit?.on_error ?? 'deny',
    },
    extAuthz: {
      ...az,
      replicas: s.ext_authz?.replicas ?? 2,
      timeoutMs: durationMs(timeouts.ext_authz),
      maxBodyBytes: s.ext_authz?.max_body_bytes ?? 262_144,
    },
    envoy: { replicas: s.envoy?.replicas ?? 2, adminPort, statsPort: 19001 },
  };
}
