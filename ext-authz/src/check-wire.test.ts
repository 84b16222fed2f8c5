import { create, equals, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import {
  type CheckRequest,
  CheckRequestSchema,
  CheckResponseSchema,
} from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import { envoyCheckRequest } from '../../test/support/envoy-check.js';
import { attempt, corruptedCopies } from '../../test/support/wire-fuzz.js';
import { checkInputFromEnvoy, envoyCheckResponse } from './check-grpc.js';
import { checkInputFromWire, checkResponseToWire } from './check-wire.js';
import { type CheckInput, type Decision, deny } from './decision.js';

const requests: [string, CheckRequest][] = [
  [
    'Envoy request with a body',
    envoyCheckRequest({
      path: '/v1/chat/completions?x=1',
      policy: 'chat',
      headers: { 'x-api-key': 'k', 'x-envoy-external-address': '192.0.2.9' },
      body: { model: 'gpt-4o' },
    }),
  ],
  ['no body, no policy', envoyCheckRequest({ method: 'GET', path: '/v1/models' })],
  ['empty request', create(CheckRequestSchema, {})],
  [
    'header_map with raw values, repeated and mixed-case keys; body as a string',
    create(CheckRequestSchema, {
      attributes: {
        request: {
          http: {
            headers: { ignored: 'because header_map is set' },
            headerMap: {
              headers: [
                { key: ':path', value: '/execute' },
                { key: 'X-Api-Key', rawValue: new TextEncoder().encode('raw-key') },
                { key: 'x-api-key', value: 'second' },
                { key: ':method', value: 'POST' },
              ],
            },
            body: '{"agent_type":"coder"}',
          },
        },
        contextExtensions: { policy: 'execute', other: 'x' },
      },
    }),
  ],
  [
    'pipe address instead of a socket address; map keys that look like numbers and __proto__',
    create(CheckRequestSchema, {
      attributes: {
        source: { address: { address: { case: 'pipe', value: { path: '/tmp/s' } } } },
        request: { http: { headers: { b: '1', '10': 'ten', a: '2', __proto__: 'p', A: '3' } } },
      },
    }),
  ],
  [
    'fields the decision does not read',
    create(CheckRequestSchema, {
      attributes: {
        destination: { principal: 'spiffe://x', labels: { a: 'b' } },
        request: { time: { seconds: 5n }, http: { size: 99n, fragment: 'f', query: 'q=1', protocol: 'HTTP/2' } },
        metadataContext: { filterMetadata: { x: { fields: {} } } },
        tlsSession: { sni: 'example.com' },
      },
    }),
  ],
];

function reference(bytes: Uint8Array) {
  return checkInputFromEnvoy(fromBinary(CheckRequestSchema, bytes));
}

/** checkInputFromWire with its headers as a Map (what checkInputFromEnvoy gives), to compare the two. */
function fromWire(bytes: Uint8Array): CheckInput {
  const input = checkInputFromWire(bytes);
  return { ...input, headers: new Map(input.headers) };
}

describe('checkInputFromWire', () => {
  it.each(requests)('%s: same CheckInput as decoding the message', (_, req) => {
    const bytes = toBinary(CheckRequestSchema, req);
    expect(fromWire(bytes)).toEqual(reference(bytes));
  });

  it('merges a message sent in two parts as protobuf does (last scalar wins, maps and lists add up)', () => {
    const a = toBinary(CheckRequestSchema, requests[3][1]);
    const b = toBinary(CheckRequestSchema, requests[0][1]);
    const c = toBinary(CheckRequestSchema, requests[4][1]);
    for (const parts of [
      [a, b],
      [b, a],
      [b, c],
      [c, b],
      [a, c, b],
    ]) {
      const bytes = Buffer.concat(parts);
      expect(fromWire(bytes)).toEqual(reference(bytes));
    }
  });

  it('corrupted bytes: never a different answer; an error where the message decoder also fails on what we read', () => {
    let bothOk = 0;
    let bothFail = 0;
    let onlyReferenceFails = 0;
    for (const bytes of corruptedCopies(
      requests.map(([, r]) => toBinary(CheckRequestSchema, r)),
      3000,
      42,
      4,
    )) {
      const ref = attempt(() => reference(bytes));
      const fast = attempt(() => fromWire(bytes));
      if (ref.ok && fast.ok) {
        expect(fast).toEqual(ref);
        bothOk++;
      } else if (!ref.ok && !fast.ok) bothFail++;
      else {
        // Bytes the message decoder rejects inside a field the decision never reads (skipped here).
        expect(fast.ok).toBe(true);
        onlyReferenceFails++;
      }
    }
    expect(bothOk).toBeGreaterThan(100);
    expect(bothFail).toBeGreaterThan(100);
    expect(onlyReferenceFails).toBeLessThan(bothFail);
  });

  it('rejects a length that runs past the end', () => {
    expect(() => checkInputFromWire(Uint8Array.from([0x0a, 0x50, 0x01]))).toThrow();
  });
});

const allow: Decision = {
  allow: true,
  status: 200,
  reason: 'allowed',
  setHeaders: [
    ['x-aigw-client', 'agents-service'],
    ['x-aigw-tenant', 'platform'],
    ['x-aigw-model', ''],
  ],
  removeHeaders: ['x-api-key', 'x-aigw-route'],
  responseHeaders: [],
  metadata: { client: 'agents-service', tenant: 'platform', estimated_tokens: 1234, ratio: 0.5, empty: '' },
};
const decisions: [string, Decision][] = [
  ['allow', allow],
  ['allow without headers or metadata', { ...allow, setHeaders: [], removeHeaders: [], metadata: {} }],
  ['401', deny(401, 'missing credentials', { responseHeaders: [['www-authenticate', 'Bearer realm="aigw"']] })],
  ['403', deny(403, 'model not allowed', { client: 'c', route: 'r', model: 'm' })],
  ['400', deny(400, 'body is not JSON')],
  ['429', deny(429, 'token budget spent', { responseHeaders: [['retry-after', '30']] })],
  ['503', deny(503, 'authorization failed')],
];

describe('checkResponseToWire', () => {
  it.each(decisions)('%s: the bytes of the CheckResponse message', (_, d) => {
    const bytes = checkResponseToWire(d);
    const expected = envoyCheckResponse(d);
    expect(equals(CheckResponseSchema, fromBinary(CheckResponseSchema, bytes), expected)).toBe(true);
    expect(Buffer.from(bytes).equals(Buffer.from(toBinary(CheckResponseSchema, expected)))).toBe(true);
  });
});
