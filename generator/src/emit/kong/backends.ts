// Backends as Kong services: one per backend (URL, connect timeout) with the read/write timeout
// of the routes that use it, since Kong times out per service and per read, not per route. What a
// route asks of its backends beyond one URL (split, failover, retries, SNI) is a gap.
import type { Backend, GatewayModel, Route } from '../../model/types.js';
import { primaryBackend } from './plan.js';
import type { Gap, KongRoute } from './types.js';

export const backendUrl = (b: Backend) => `${b.scheme}://${b.host}:${b.port}`;

/** How long a route lets its backend take: the whole-request timeout, else the idle timeout. */
const routeWaitMs = (r: Route): number | undefined => (r.timeoutMs > 0 ? r.timeoutMs : r.idleTimeoutMs);

export interface ServiceSettings {
  backend: Backend;
  connectTimeoutMs: number;
  /** Kong read/write timeout: the longest wait of the Kong routes on this backend (none: Kong's default). */
  readTimeoutMs?: number;
}

export function serviceSettings(model: GatewayModel, routes: KongRoute[]): ServiceSettings[] {
  return model.backends.map((b) => {
    const waits = routes
      .filter((k) => k.backend.name === b.name)
      .map((k) => routeWaitMs(k.route))
      .filter((w): w is number => w !== undefined);
    return {
      backend: b,
      connectTimeoutMs: b.connectTimeoutMs,
      ...(waits.length ? { readTimeoutMs: Math.max(...waits) } : {}),
    };
  });
}

const seconds = (ms: number) => `${ms / 1000}s`;

/** Retry conditions that are connection failures, which Kong's service retries cover. */
const connectionFailures = ['reset', 'connect-failure'];

export function backendGaps(model: GatewayModel, k: KongRoute, services: ServiceSettings[]): Gap[] {
  const r = k.route;
  const gaps: Gap[] = [];
  const a = r.action;
  if (a.kind === 'split') {
    const others = a.backends.filter((b) => b.name !== primaryBackend(r));
    gaps.push({
      route: r.name,
      feature: 'weighted split',
      why: `a Kong route has one service: every request goes to ${k.backend.name}, none to ${others
        .map((b) => `${b.name} (weight ${b.weight})`)
        .join(', ')}; use a Kong upstream with weighted targets by hand`,
    });
  }
  if (a.kind === 'single' && a.failover.length) {
    gaps.push({
      route: r.name,
      feature: 'failover chain',
      why: `Kong OSS does not retry on another service: requests go to ${a.backend} only, never to ${a.failover.join(', ')}`,
    });
  }
  if (r.retries) {
    const answers = r.retries.on.filter((c) => !connectionFailures.includes(c));
    gaps.push({
      route: r.name,
      feature: 'retries',
      why: `Kong retries a service only after a connection failure, as often as the service's retries say (default 5, not ${
        r.retries.attempts
      }) and without backoff${answers.length ? `, never on an answer (${answers.join(', ')})` : ''}`,
    });
  }
  const service = services.find((s) => s.backend.name === k.backend.name)!;
  const wait = routeWaitMs(r);
  if (wait !== service.readTimeoutMs) {
    gaps.push({
      route: r.name,
      feature: 'timeout',
      why: `Kong times out per service and per read: the service of backend ${k.backend.name} waits ${
        service.readTimeoutMs === undefined ? "Kong's default 60s" : seconds(service.readTimeoutMs)
      } between two reads (the longest of its routes), not ${wait === undefined ? 'without limit' : seconds(wait)}`,
    });
  }
  if (k.backend.scheme === 'https' && k.backend.sni !== k.backend.host) {
    gaps.push({
      route: r.name,
      feature: 'TLS server name',
      why: `Kong sends the service host ${k.backend.host} as SNI, not ${k.backend.sni}`,
    });
  }
  if (model.listeners.length > 1) {
    const l = model.listeners.find((x) => x.name === r.listener)!;
    gaps.push({
      route: r.name,
      feature: `listener "${l.name}"`,
      why: `Kong serves every route on its own proxy ports: the route also answers on ports other than ${l.port}; give the listeners distinct hosts`,
    });
  }
  return gaps;
}
