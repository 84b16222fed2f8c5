// The REDIS_URL of the rate-limit service: services.redis.url, the Cluster's nodes, or the
// in-cluster Redis. Never a password: that comes from its Secret as REDIS_PASSWORD.
import type { GatewayModel } from '../../model/types.js';
import type { ServiceNames } from './labels.js';
import type { PortPlan } from './ports.js';

/** `redis+cluster://h1:p1,h2:p2` when the nodes share a scheme and carry nothing but host:port. */
function clusterUrl(nodes: string[]): string {
  const parsed = nodes.map((n) => {
    try {
      return new URL(n);
    } catch {
      return undefined;
    }
  });
  const plain = parsed.every(
    (u) =>
      u &&
      u.protocol === parsed[0]?.protocol &&
      !u.username &&
      !u.password &&
      (u.pathname === '' || u.pathname === '/') &&
      !u.search,
  );
  if (!plain) return nodes.join(',');
  const scheme = parsed[0]!.protocol.replace(/:$/, '');
  return `${scheme}+cluster://${parsed.map((u) => u!.host).join(',')}`;
}

export function redisUrl(model: GatewayModel, names: ServiceNames, ports: PortPlan): string {
  const r = model.services.redis;
  if (r.url) return r.url;
  if (r.cluster?.length) return clusterUrl(r.cluster);
  return `redis://${names.redis}.${model.namespace}.svc.cluster.local:${ports.redis}`;
}

/** Hosts and ports of the Redis servers the rate-limit service connects to. */
export function redisEndpoints(model: GatewayModel): { host: string; port: number }[] {
  const r = model.services.redis;
  const urls = r.url ? [r.url] : (r.cluster ?? []);
  return urls.flatMap((u) => {
    try {
      const url = new URL(u);
      return [{ host: url.hostname, port: url.port ? Number(url.port) : 6379 }];
    } catch {
      return [];
    }
  });
}
