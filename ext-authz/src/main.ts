#!/usr/bin/env node
// ext-authz: Envoy external authorization (gRPC Check) and an HTTP check for nginx / Envoy http mode.
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { Authorization, type CheckRequest } from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import {
  createLogger,
  grpcServiceDefinition,
  HealthState,
  parseFlagsOrExit,
  startGrpcServer,
  startHttpServer,
  watchConfig,
} from '../../common/service-runtime/index.js';
import { auditDecision } from './audit.js';
import { Checker, PolicyRuntime } from './check.js';
import { checkInputFromEnvoy, envoyCheckResponse } from './check-grpc.js';
import { type CheckInput, type Decision, deny } from './decision.js';
import { checkInputFromHttp, writeHttpDecision } from './http-check.js';
import { loadPolicy } from './policy.js';
import { type Settings, settingsSpec } from './settings.js';
import { AuthzStats } from './stats.js';
import { TokenQuota } from './token-quota.js';
import { UpstreamCredentials } from './upstream-credentials.js';

const serviceName = 'envoy.service.auth.v3.Authorization';
const log = createLogger('ext-authz');

async function main(): Promise<void> {
  const settings = parseFlagsOrExit<Settings>('ext-authz', process.argv.slice(2), settingsSpec);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const stats = new AuthzStats(registry);
  const health = new HealthState();
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
      health.setServing('', true);
      health.setServing(serviceName, true);
    },
    onError: (e) => {
      stats.policyLoads.inc({ result: 'error' });
      log.error(runtime ? 'policy not loaded; keeping the last good one' : 'policy not loaded', { error: e.message });
    },
  });
  const tokenQuota = settings.ratelimit ? new TokenQuota(settings.ratelimit, settings.ratelimitTimeoutMs) : undefined;
  const checker = new Checker(() => runtime, new UpstreamCredentials(), Date.now, tokenQuota);

  const decide = async (input: CheckInput, transport: 'grpc' | 'http'): Promise<Decision> => {
    const t0 = performance.now();
    let d: Decision;
    try {
      d = await checker.check(input);
    } catch (e) {
      log.error('check failed', { error: e, request_id: input.requestId });
      d = deny(503, 'authorization failed');
    }
    const ms = performance.now() - t0;
    stats.duration.observe({ transport }, ms / 1000);
    stats.decisions.inc({
      route: d.route ?? input.policy ?? '',
      decision: d.allow ? 'allow' : 'deny',
      status: String(d.status),
    });
    if (d.allow && d.estimatedTokens !== undefined)
      stats.estimatedTokens.inc({ tenant: d.tenant ?? '' }, d.estimatedTokens);
    auditDecision(log, input, d, ms, transport);
    return d;
  };

  const implementation: grpc.UntypedServiceImplementation = {
    Check: (call: grpc.ServerUnaryCall<CheckRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      decide(checkInputFromEnvoy(call.request), 'grpc').then(
        (d) => callback(null, envoyCheckResponse(d)),
        (e: Error) => callback({ code: 13, details: e.message }),
      );
    },
  };
  const grpcServer = await startGrpcServer({
    host: settings.host,
    port: settings.grpcPort,
    services: [{ definition: grpcServiceDefinition(Authorization), implementation }],
    health,
    maxReceiveMessageBytes: settings.maxBodyBytes * 2 + 1024 * 1024,
  });
  const http = await startHttpServer({
    host: settings.host,
    port: settings.httpPort,
    health,
    registry,
    routes: (req, res, body) => {
      if (!(req.url === '/check' || req.url?.startsWith('/check/') || req.url?.startsWith('/check?'))) return false;
      const requestId = String(req.headers['x-request-id'] ?? randomUUID());
      decide(checkInputFromHttp(req, body, requestId), 'http').then(
        (d) => writeHttpDecision(res, d),
        () => writeHttpDecision(res, deny(503, 'authorization failed')),
      );
      return true;
    },
  });
  log.info('serving', { grpc_port: grpcServer.port, http_port: http.port });
  const stop = async () => {
    health.setServing('', false);
    watcher.close();
    await grpcServer.close();
    await http.close();
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
