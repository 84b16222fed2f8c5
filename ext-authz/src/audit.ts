// One JSON line per decision: who, what, the verdict and why, how long it took. Never a key, a
// token or a header value.
//
// Its fields write themselves into the log line (LogMembers), in their fixed order: the same line
// as the fields given as an object (audit.test.ts holds the two to the same bytes), without the
// object or a string per field on every request.
import type { Logger, LogMembers, MemberWriter } from '../../common/service-runtime/index.js';
import type { CheckInput, Decision } from './decision.js';

type Transport = 'grpc' | 'http';

/** The audit fields of one decision; one instance, filled for each line (logging is synchronous). */
class AuditFields implements LogMembers {
  input: CheckInput | undefined = undefined;
  decision: Decision | undefined = undefined;
  latencyMs = 0;
  transport: Transport = 'grpc';

  writeMembers(w: MemberWriter): void {
    const input = this.input!;
    const d = this.decision!;
    w.string('request_id', input.requestId);
    w.string('transport', this.transport);
    if (input.policy !== undefined) w.string('policy', input.policy);
    w.string('method', input.method);
    w.string('path', pathOnly(input.path));
    if (d.client !== undefined) w.string('client', d.client);
    if (d.tenant !== undefined) w.string('tenant', d.tenant);
    if (d.route !== undefined) w.string('route', d.route);
    if (d.model !== undefined) w.string('model', d.model);
    if (d.estimatedTokens !== undefined) w.number('estimated_tokens', d.estimatedTokens);
    w.string('decision', d.allow ? 'allow' : 'deny');
    w.number('status', d.status);
    w.string('reason', d.reason);
    w.number('latency_ms', Math.round(this.latencyMs * 1000) / 1000);
  }
}
const fields = new AuditFields();

export function auditDecision(
  log: Logger,
  input: CheckInput,
  d: Decision,
  latencyMs: number,
  transport: Transport,
): void {
  fields.input = input;
  fields.decision = d;
  fields.latencyMs = latencyMs;
  fields.transport = transport;
  try {
    log.info('decision', fields);
  } finally {
    fields.input = fields.decision = undefined; // holds no request past its line
  }
}

/** The path without its query (which may hold secrets), at most 256 characters. */
function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return (q < 0 ? path : path.slice(0, q)).slice(0, 256);
}
