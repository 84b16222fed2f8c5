#!/usr/bin/env node
// ratelimit-service: Envoy's RateLimitService on Redis (or in memory for one process).
import cluster from 'node:cluster';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  clusterRegistry,
  createLogger,
  exitWithPrimary,
  HealthState,
  parseFlagsOrExit,
  serveMetricsToPrimary,
  startHttpServer,
  superviseWorkers,
} from '../../common/service-runtime/index.js';
import { type Settings, settingsSpec } from './settings.js';
import { startWorker } from './worker.js';

const log = createLogger('ratelimit-service');

async function primary(settings: Settings): Promise<void> {
  const health = new HealthState();
  const pool = superviseWorkers({
    count: settings.workers,
    log,
    onReadyChange: (all) => health.setServing('', all),
  });
  // /metrics of the primary: every worker's metrics, summed (the primary itself counts nothing).
  const metrics = clusterRegistry(new Registry());
  const http = await startHttpServer({ host: settings.host, port: settings.httpPort, health, registry: metrics });
  log.info('listening', { workers: settings.workers, grpc_port: settings.grpcPort, http_port: http.port });
  const stop = async () => {
    pool.stop();
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
    exitWithPrimary();
    serveMetricsToPrimary(registry);
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
