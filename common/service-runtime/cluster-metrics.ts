// Metrics of a service that runs as a node:cluster primary plus workers: the primary's /metrics
// is the sum of its own registry and every live worker's, the way prom-client's
// AggregatorRegistry sums workers (it has no place for the primary's own metrics, hence this).
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'aigw:metrics-request';
const REPLY = 'aigw:metrics-reply';

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

interface Reply {
  type: typeof REPLY;
  id: number;
  metrics?: MetricsJson;
  error?: string;
}

/** In a worker: answer the primary's requests for this registry's metrics. */
export function serveMetricsToPrimary(registry: Registry): void {
  process.on('message', (m: { type?: string; id?: number }) => {
    if (m?.type !== REQUEST) return;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: REPLY, id: m.id ?? 0, metrics } satisfies Reply),
      (e: Error) => process.send?.({ type: REPLY, id: m.id ?? 0, error: e.message } satisfies Reply),
    );
  });
}

/**
 * In the primary: a registry-like object whose `metrics()` sums `own` and the live workers'
 * registries (a worker that does not answer within `timeoutMs` is left out of that scrape).
 */
export function clusterRegistry(own: Registry, timeoutMs = 2000): Registry {
  let next = 0;
  const ask = (w: Worker): Promise<MetricsJson | undefined> =>
    new Promise((resolve) => {
      const id = ++next;
      const done = (v: MetricsJson | undefined) => {
        clearTimeout(timer);
        w.off('message', onMessage);
        resolve(v);
      };
      const onMessage = (m: Reply) => {
        if (m?.type === REPLY && m.id === id) done(m.metrics);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      w.on('message', onMessage);
      try {
        w.send({ type: REQUEST, id });
      } catch {
        done(undefined);
      }
    });
  const metrics = async () => {
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
    const all = [await own.getMetricsAsJSON(), ...(await Promise.all(workers.map(ask)))].filter(
      (m): m is MetricsJson => m !== undefined,
    );
    return AggregatorRegistry.aggregate(all).metrics();
  };
  return { contentType: own.contentType, metrics } as unknown as Registry;
}
