// One JSON line per decision: who, what, the verdict and why, how long it took. Never a key, a
// token or a header value.
//
// Its fields are written here as JSON members in their fixed order (the logger's generic way
// walks a fields object per line): the same line, for less work on every request (audit.test.ts
// holds the two to the same bytes).
import { JsonMembers, jsonString, type Logger } from '../../common/service-runtime/index.js';
import type { CheckInput, Decision } from './decision.js';

export function auditDecision(
  log: Logger,
  input: CheckInput,
  d: Decision,
  latencyMs: number,
  transport: 'grpc' | 'http',
): void {
  log.info('decision', auditMembers(input, d, latencyMs, transport));
}

/** The audit fields of a decision, as JSON members (undefined fields left out). */
export function auditMembers(
  input: CheckInput,
  d: Decision,
  latencyMs: number,
  transport: 'grpc' | 'http',
): JsonMembers {
  let m = `,"request_id":${jsonString(input.requestId)},"transport":"${transport}"`;
  if (input.policy !== undefined) m += `,"policy":${jsonString(input.policy)}`;
  m += `,"method":${jsonString(input.method)},"path":${jsonString(pathOnly(input.path))}`;
  if (d.client !== undefined) m += `,"client":${jsonString(d.client)}`;
  if (d.tenant !== undefined) m += `,"tenant":${jsonString(d.tenant)}`;
  if (d.route !== undefined) m += `,"route":${jsonString(d.route)}`;
  if (d.model !== undefined) m += `,"model":${jsonString(d.model)}`;
  if (d.estimatedTokens !== undefined) m += `,"estimated_tokens":${jsonNumber(d.estimatedTokens)}`;
  m += `,"decision":"${d.allow ? 'allow' : 'deny'}","status":${jsonNumber(d.status)},"reason":${jsonString(d.reason)}`;
  m += `,"latency_ms":${jsonNumber(Math.round(latencyMs * 1000) / 1000)}`;
  return new JsonMembers(m);
}

function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** The path without its query (which may hold secrets), at most 256 characters. */
function pathOnly(path: string): string {
  const q = path.indexOf('?');
  return (q < 0 ? path : path.slice(0, q)).slice(0, 256);
}
