// One JSON line per decision: who, what, the verdict and why, how long it took. Never a key, a
// token or a header value.
import type { Logger } from '../../common/service-runtime/index.js';
import type { CheckInput, Decision } from './decision.js';

export function auditDecision(
  log: Logger,
  input: CheckInput,
  d: Decision,
  latencyMs: number,
  transport: 'grpc' | 'http',
): void {
  log.info('decision', {
    request_id: input.requestId,
    transport,
    policy: input.policy,
    method: input.method,
    path: pathOnly(input.path),
    client: d.client,
    tenant: d.tenant,
    route: d.route,
    model: d.model,
    estimated_tokens: d.estimatedTokens,
    decision: d.allow ? 'allow' : 'deny',
    status: d.status,
    reason: d.reason,
    latency_ms: Math.round(latencyMs * 1000) / 1000,
  });
}

/** The path without its query (which may hold secrets), at most 256 characters. */
function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return (q < 0 ? path : path.slice(0, q)).slice(0, 256);
}
