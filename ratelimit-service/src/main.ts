#!/usr/bin/env node
// ratelimit-service: Envoy's RateLimitService on Redis (or in memory for one process).
import cluster from 'node:cluster';
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';
import { createLogger, HealthState, parseFlagsOrExit, startHttpServer } from '../../common/service-runtime/index.js';
import { type Settings, settingsSpec } from './settings.js';
import { startWorker } from './worker.js';

const log = createLogger('ratelimit-service');

async function primary(settings: Settings): Promise<void> {
  const health = new HealthState();
  const registry = new AggregatorRegistry();
  const ready = new Set<number>();
  const fork = () => {
    const w = cluster.fork();
    w.on('message', (m: { ready?: boolean }) => {
      if (m?.ready === true) ready.add(w.id);
      if (m?.ready === false) ready.delete(w.id);
      health.setServing('', ready.size === Object.keys(cluster.workers ?? {}).length);
    });
  };
  for (let i = 0; i < settings.workers; i++) fork();
  cluster.on('exit', (w, code, signal) => {
    ready.delete(w.id);
    health.setServing('', false);
    if (!stopping) {
      log.error('worker exited; starting another', { worker: w.id, code, signal });
      fork();
    }
  });
  let stopping = false;
  // /metrics of the primary: every worker's metrics, summed (prom-client asks them over IPC).
  const metrics = {
    contentType: registry.contentType,
    metrics: () => registry.clusterMetrics(),
  } as unknown as Registry;
  const http = await startHttpServer({ host: settings.host, port: settings.httpPort, health, registry: metrics });
  log.info('listening', { workers: settings.workers, grpc_port: settings.grpcPort, http_port: http.port });
  const stop = async () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    await http.close();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function main(): Promise<void> {
  const settings = parseFlagsOrExit<Settings>('ratelimit-service', process.argv.slice(2), settingsSpec);
  if (settings.workers > 1 && cluster.isPrimary) return primary(settings);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (cluster.isWorker) {
    // Answer the primary's metric requests (prom-client installs that listener in the constructor).
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([registry]);
  }
  const worker = await startWorker(settings, registry, log, cluster.isWorker);
  const stop = async () => {
    await worker.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e) => {
  log.error('failed to start', { error: e });
  process.exit(1);
});
