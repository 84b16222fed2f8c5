// One serving process: config (hot reloaded), store, the gRPC service and, when it runs alone, the
// HTTP port. With --workers, the primary process serves HTTP and aggregates the workers' metrics.
import type * as grpc from '@grpc/grpc-js';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { RateLimitService as RateLimitServiceDesc } from '../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import {
  type createLogger,
  grpcServiceDefinition,
  HealthState,
  reportReadyToPrimary,
  startGrpcServer,
  startHttpServer,
  watchConfig,
} from '../../common/service-runtime/index.js';
import type { RateLimitCall } from './call.js';
import { answerToWire, callFromWire } from './call-wire.js';
import { loadConfig } from './config/load.js';
import type { RateLimitConfig } from './config/types.js';
import { OverLimitCache } from './local-cache.js';
import { RateLimitCallError, RateLimitService } from './service.js';
import type { Settings } from './settings.js';
import { RateLimitStats } from './stats.js';
import { MemoryStore } from './store/memory-store.js';
import { parseRedisSpec, RedisStore } from './store/redis-store.js';
import type { CounterStore } from './store/store.js';

export const serviceName = 'envoy.service.ratelimit.v3.RateLimitService';

export function createStore(settings: Settings): CounterStore {
  if (!settings.redis) return new MemoryStore();
  const { urls, cluster } = parseRedisSpec(settings.redis);
  return new RedisStore({
    urls: urls.map((u) => withPassword(u, settings.redisPassword)),
    cluster,
    commandTimeoutMs: settings.redisTimeoutMs,
  });
}

/** Puts a separately given password (or "user:password") into a Redis URL that has none. */
export function withPassword(url: string, password: string): string {
  if (!password) return url;
  const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `redis://${url}`);
  if (u.password) return url;
  const i = password.indexOf(':');
  if (i > 0) {
    u.username = encodeURIComponent(password.slice(0, i));
    u.password = encodeURIComponent(password.slice(i + 1));
  } else u.password = encodeURIComponent(password);
  return u.toString();
}

export async function startWorker(
  settings: Settings,
  registry: Registry,
  log: ReturnType<typeof createLogger>,
  isClusterWorker: boolean,
) {
  const stats = new RateLimitStats(registry);
  const health = new HealthState();
  let config: RateLimitConfig | undefined;
  // Ready once a config is loaded, the gRPC port listens, and the store is connected (or a
  // short start-up grace has passed: then the domains' failure modes answer for a store that is down).
  const readiness = { config: false, listening: false, store: false };
  const updateReady = () => {
    if (!(readiness.config && readiness.listening && readiness.store) || health.isServing('')) return;
    health.setServing('', true);
    health.setServing(serviceName, true);
    if (isClusterWorker) reportReadyToPrimary();
  };
  const watcher = watchConfig({
    path: settings.config,
    load: loadConfig,
    onLoad: (c) => {
      config = c;
      stats.configLoads.inc({ result: 'success' });
      stats.configDomains.set(c.domains.size);
      log.info('config loaded', { domains: [...c.domains.keys()], files: c.files.length });
      readiness.config = true;
      updateReady();
    },
    onError: (e) => {
      stats.configLoads.inc({ result: 'error' });
      log.error(config ? 'config not loaded; keeping the last good one' : 'config not loaded', { error: e.message });
    },
  });
  const store = createStore(settings);
  const service = new RateLimitService({
    config: () => config,
    store,
    localStore: new MemoryStore(),
    // With failure_mode local every process keeps its own counters: each takes its share.
    replicas: settings.replicas * Math.max(1, settings.workers),
    keyPrefix: settings.keyPrefix,
    overLimitCache: settings.localCache ? new OverLimitCache() : undefined,
    responseHeaders: settings.responseHeaders,
    globalShadowMode: settings.shadowMode,
    stats,
  });
  const okDuration = stats.callDuration.child({ code: 'OK' });
  const okCalls = stats.calls.child({ code: 'OK' });
  const implementation: grpc.UntypedServiceImplementation = {
    ShouldRateLimit: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const start = performance.now();
      // Encoding inside the chain: an answer that cannot be encoded ends as INTERNAL like any fault.
      service
        .shouldRateLimit(call.request as RateLimitCall)
        .then(answerToWire)
        .then(
          (bytes) => {
            okDuration.observe((performance.now() - start) / 1000);
            okCalls.inc();
            callback(null, bytes);
          },
          (e: unknown) => {
            const code = e instanceof RateLimitCallError ? e.code : grpcStatus.INTERNAL;
            stats.callDuration.observe({ code: grpcStatus[code] }, (performance.now() - start) / 1000);
            stats.calls.inc({ code: grpcStatus[code] });
            if (!(e instanceof RateLimitCallError)) log.error('ShouldRateLimit failed', { error: e });
            callback({ code, details: (e as Error).message });
          },
        );
    },
  };
  const grpcServer = await startGrpcServer({
    host: settings.host,
    port: settings.grpcPort,
    services: [
      { definition: grpcServiceDefinition(RateLimitServiceDesc, { ShouldRateLimit: callFromWire }), implementation },
    ],
    health,
  });
  const http = isClusterWorker
    ? undefined
    : await startHttpServer({ host: settings.host, port: settings.httpPort, health, registry });
  readiness.listening = true;
  const storeDeadline = Date.now() + 5000;
  const waitForStore = () => {
    if (store.ready() || Date.now() >= storeDeadline) {
      if (!store.ready())
        log.warn('store not connected after 5 s; serving with the failure modes', { store: store.kind });
      readiness.store = true;
      updateReady();
    } else setTimeout(waitForStore, 50).unref();
  };
  waitForStore();
  log.info('serving', { grpc_port: grpcServer.port, http_port: http?.port, store: store.kind });
  return {
    grpcPort: grpcServer.port,
    httpPort: http?.port,
    close: async () => {
      watcher.close();
      health.setServing('', false);
      await grpcServer.close();
      await http?.close();
      await store.close();
    },
  };
}
