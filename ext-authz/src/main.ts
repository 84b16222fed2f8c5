#!/usr/bin/env node
// ext-authz: Envoy external authorization (gRPC Check) and an HTTP check for nginx / Envoy http mode.
// With --workers N > 1 (node:cluster), N worker processes share the gRPC port and the primary
// serves the HTTP port (/check, /healthz, /readyz, and /metrics summed over all processes); every
// process loads and watches the policy itself.
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { Authorization } from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import {
  clusterRegistry,
  createLogger,
  exitWithPrimary,
  grpcServiceDefinition,
  HealthState,
  missingNodeFlags,
  parseFlagsOrExit,
  reportReadyToPrimary,
  serveMetricsToPrimary,
  startGrpcServer,
  startHttpServer,
  superviseWorkers,
  type WorkerPool,
  watchConfig,
} from '../../common/service-runtime/index.js';
import { auditDecision } from './audit.js';
import { Checker, PolicyRuntime } from './check.js';
import { checkInputFromWire, checkResponseToWire } from './check-wire.js';
import { type CheckInput, type Decision, deny } from './decision.js';
import { checkInputFromHttp, writeHttpDecision } from './http-check.js';
import { EXT_AUTHZ_NODE_FLAGS } from './node-flags.js';
import { loadPolicy } from './policy.js';
import { type Settings, settingsSpec } from './settings.js';
import { AuthzStats } from './stats.js';
import { TokenQuota } from './token-quota.js';
import { UpstreamCredentials } from './upstream-credentials.js';

const serviceName = 'envoy.service.auth.v3.Authorization';
// One audit line per decision: written in batches of up to PIPE_BUF bytes, none waiting over 20 ms.
const log = createLogger('ext-authz', { batch: { maxDelayMs: 20 } });

async function main(): Promise<void> {
  const settings = parseFlagsOrExit<Settings>('ext-authz', process.argv.slice(2), settingsSpec);
  if (settings.workers < 1) {
    process.stderr.write(`ext-authz: --workers: must be at least 1, got ${settings.workers}\n`);
    process.exit(2);
  }
  // single: gRPC + HTTP in this process; primary: HTTP, and forks the workers; worker: gRPC.
  const role = settings.workers === 1 ? 'single' : cluster.isPrimary ? 'primary' : 'worker';
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (role === 'worker') {
    serveMetricsToPrimary(registry);
    exitWithPrimary();
  }
  const stats = new AuthzStats(registry, () => log.dropped());
  const health = new HealthState();
  // Ready: the policy is loaded, this process listens, and (primary) every worker is ready.
  const readiness = { policy: false, listening: false, workers: role !== 'primary' };
  const updateReady = () => {
    const ready = readiness.policy && readiness.listening && readiness.workers;
    if (ready === health.isServing('')) return;
    health.setServing('', ready);
    health.setServing(serviceName, ready);
    if (role === 'worker') reportReadyToPrimary(ready);
  };
  let runtime: PolicyRuntime | undefined;
  const watcher = watchConfig({
    path: settings.config,
    load: (file) => new PolicyRuntime(loadPolicy(file), settings.maxBodyBytes),
    onLoad: (next) => {
      const previous = runtime;
      runtime = next;
      previous?.close();
      stats.policyLoads.inc({ result: 'success' });
      stats.policies.set(Object.keys(next.policy.policies).length);
      log.info('policy loaded', {
        policies: Object.keys(next.policy.policies).length,
        clients: next.policy.clients.length,
      });
      readiness.policy = true;
      updateReady();
    },
    onError: (e) => {
      stats.policyLoads.inc({ result: 'error' });
      log.error(runtime ? 'policy not loaded; keeping the last good one' : 'policy not loaded', { error: e.message });
    },
  });
  const tokenQuota = settings.ratelimit ? new TokenQuota(settings.ratelimit, settings.ratelimitTimeoutMs) : undefined;
  const checker = new Checker(() => runtime, new UpstreamCredentials(), Date.now, tokenQuota);

  /** Counts and audits a decision taken, then hands it on. */
  const decided = (input: CheckInput, d: Decision, t0: number, transport: 'grpc' | 'http'): Decision => {
    const ms = performance.now() - t0;
    stats.checkDuration(transport, ms / 1000);
    // The route label names a policy of the config, never a request's own value (the HTTP check
    // takes the policy from its URL): an unknown policy counts under "".
    const known =
      input.policy !== undefined && runtime !== undefined && Object.hasOwn(runtime.policy.policies, input.policy);
    stats.decision(d.route ?? (known ? input.policy! : ''), d.allow, d.status);
    if (d.allow && d.estimatedTokens !== undefined)
      stats.estimatedTokens.inc({ tenant: d.tenant ?? '' }, d.estimatedTokens);
    auditDecision(log, input, d, ms, transport);
    return d;
  };
  const failed = (input: CheckInput, e: unknown): Decision => {
    log.error('check failed', { error: e, request_id: input.requestId });
    return deny(503, 'authorization failed');
  };
  /** The decision, at once when the checker has it at once (Checker.check); never rejects. */
  const decide = (input: CheckInput, transport: 'grpc' | 'http'): Decision | Promise<Decision> => {
    const t0 = performance.now();
    const d = checker.check(input);
    if (d instanceof Promise) {
      return d.then(
        (done) => decided(input, done, t0, transport),
        (e) => decided(input, failed(input, e), t0, transport),
      );
    }
    return decided(input, d, t0, transport);
  };

  const implementation: grpc.UntypedServiceImplementation = {
    // The request arrives as a CheckInput and the answer leaves as bytes: see check-wire.ts.
    Check: (call: grpc.ServerUnaryCall<CheckInput, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const answer = (d: Decision) => {
        let bytes: Uint8Array;
        try {
          bytes = checkResponseToWire(d); // an answer that cannot be encoded is a fault like any other
        } catch (e) {
          callback({ code: 13, details: (e as Error).message });
          return;
        }
        callback(null, bytes);
      };
      const d = decide(call.request, 'grpc');
      if (d instanceof Promise) d.then(answer, (e: Error) => callback({ code: 13, details: e.message }));
      else answer(d); // a throw here is answered INTERNAL by the server
    },
  };
  const grpcServer =
    role === 'primary'
      ? undefined
      : await startGrpcServer({
          host: settings.host,
          port: settings.grpcPort,
          services: [
            { definition: grpcServiceDefinition(Authorization, { Check: checkInputFromWire }), implementation },
          ],
          health,
          maxReceiveMessageBytes: settings.maxBodyBytes * 2 + 1024 * 1024,
        });
  let pool: WorkerPool | undefined;
  if (role === 'primary')
    pool = superviseWorkers({
      count: settings.workers,
      log,
      nodeFlags: EXT_AUTHZ_NODE_FLAGS,
      onReadyChange: (all) => {
        readiness.workers = all;
        updateReady();
      },
    });
  const http =
    role === 'worker'
      ? undefined
      : await startHttpServer({
          host: settings.host,
          port: settings.httpPort,
          health,
          registry: role === 'primary' ? clusterRegistry(registry) : registry,
          routes: (req, res, body) => {
            if (!(req.url === '/check' || req.url?.startsWith('/check/') || req.url?.startsWith('/check?')))
              return false;
            const requestId = String(req.headers['x-request-id'] ?? randomUUID());
            new Promise<Decision>((resolve) => resolve(decide(checkInputFromHttp(req, body, requestId), 'http'))).then(
              (d) => writeHttpDecision(res, d),
              () => writeHttpDecision(res, deny(503, 'authorization failed')),
            );
            return true;
          },
        });
  readiness.listening = true;
  updateReady();
  log.info('serving', { role, grpc_port: grpcServer?.port ?? settings.grpcPort, http_port: http?.port });
  const missing = role === 'single' ? missingNodeFlags(EXT_AUTHZ_NODE_FLAGS) : [];
  if (missing.length) {
    log.info('started without the node flags ext-authz runs with (its p99 is higher without)', {
      missing: missing.join(' '),
    });
  }
  const stop = async () => {
    health.setServing('', false);
    watcher.close();
    pool?.stop();
    await grpcServer?.close();
    await http?.close();
    runtime?.close();
    tokenQuota?.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e) => {
  log.error('failed to start', { error: e });
  process.exit(1);
});
