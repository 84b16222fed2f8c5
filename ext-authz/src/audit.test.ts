import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../common/service-runtime/index.js';
import { auditDecision } from './audit.js';
import { type CheckInput, type Decision, deny } from './decision.js';

function capture(): { log: ReturnType<typeof createLogger>; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { log: createLogger('ext-authz', { stream, level: 'info' }), text: () => text };
}

const input = (over: Partial<CheckInput> = {}): CheckInput => ({
  method: 'POST',
  path: '/v1/chat/completions?api_key=secret',
  host: 'llm.example.internal',
  headers: new Map([['x-api-key', ['aigw_secret_key']]]),
  policy: 'chat',
  requestId: 'req-1',
  sourceIp: '10.0.0.7',
  ...over,
});

const allow = (over: Partial<Decision> = {}): Decision => ({
  ...deny(200, 'allowed'),
  allow: true,
  client: 'hr-assistant',
  tenant: 'hr',
  route: 'chat-in-house',
  model: 'llama-3.1-8b',
  estimatedTokens: 812,
  ...over,
});

describe('auditDecision', () => {
  const cases: [string, CheckInput, Decision, number][] = [
    ['an allow with every field', input(), allow(), 0.123456],
    ['a deny without identity or policy', input({ policy: undefined }), deny(401, 'missing credentials'), 0.05],
    [
      'strings that need escaping',
      input({ requestId: 'a"b\\c\u0001', path: '/caf\u00e9/\ud83d', method: 'G\nET' }),
      allow({ reason: 'quote " and \u2028', model: '\udc00lone', tenant: '' }),
      1,
    ],
    [
      'numbers that are not finite',
      input(),
      allow({ estimatedTokens: Number.NaN, status: 200 }),
      Number.POSITIVE_INFINITY,
    ],
    ['a path longer than 256 characters', input({ path: `/${'p'.repeat(400)}` }), allow({ model: undefined }), 2.5],
  ];

  it.each(cases)('%s: the same line as the logger writes for the fields as an object', (_, i, d, ms) => {
    const fast = capture();
    auditDecision(fast.log, i, d, ms, 'grpc');
    const generic = capture();
    // The reviewed field list of an audit line, in its order, written the generic way.
    const q = i.path.indexOf('?');
    generic.log.info('decision', {
      request_id: i.requestId,
      transport: 'grpc',
      policy: i.policy,
      method: i.method,
      path: (q < 0 ? i.path : i.path.slice(0, q)).slice(0, 256),
      client: d.client,
      tenant: d.tenant,
      route: d.route,
      model: d.model,
      estimated_tokens: d.estimatedTokens,
      decision: d.allow ? 'allow' : 'deny',
      status: d.status,
      reason: d.reason,
      latency_ms: Math.round(ms * 1000) / 1000,
    });
    const strip = (line: string) => line.replace(/"time":"[^"]*"/, '"time":""');
    expect(strip(fast.text())).toBe(strip(generic.text()));
    const parsed = JSON.parse(fast.text());
    expect(parsed.msg).toBe('decision');
    expect(fast.text()).not.toContain('secret'); // neither the key nor the query
  });
});
