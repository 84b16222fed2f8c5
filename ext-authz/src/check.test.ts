// Decisions on the example gateway's generated policy, through the exact CheckRequest /
// CheckResponse fields Envoy sends and reads.

import { toBinary } from '@bufbuild/protobuf';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CheckRequestSchema,
  type CheckResponse,
  type OkHttpResponse,
} from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import { exampleKeys } from '../../test/fixtures/example-keys.js';
import { compileFile } from '../../test/support/compile-file.js';
import { type EnvoyRequest, envoyCheckRequest } from '../../test/support/envoy-check.js';
import { Checker, PolicyRuntime } from './check.js';
import { checkInputFromEnvoy, envoyCheckResponse } from './check-grpc.js';
import { checkInputFromWire } from './check-wire.js';
import { type Policy, parsePolicy } from './policy.js';
import { UpstreamCredentials } from './upstream-credentials.js';

const NOW = Date.UTC(2026, 10, 21, 12);
let checker: Checker;
let policy: Policy;

beforeAll(() => {
  const text = compileFile('examples/gateway.yaml').files.get('ext-authz/policy.yaml')!;
  policy = parsePolicy(text, 'policy.yaml');
  // The provider key comes from an environment variable in this test instead of the mounted Secret.
  policy.backends.find((b) => b.name === 'openai')!.credential = {
    env: 'OPENAI_KEY',
    header: 'authorization',
    prefix: 'Bearer ',
  };
  const runtime = new PolicyRuntime(policy, 262_144);
  checker = new Checker(
    () => runtime,
    new UpstreamCredentials({ OPENAI_KEY: 'sk-provider-secret' }),
    () => NOW,
  );
  void parse;
});

async function check(r: EnvoyRequest, now = NOW): Promise<CheckResponse> {
  const c =
    now === NOW
      ? checker
      : new Checker(
          () => new PolicyRuntime(policy, 262_144),
          new UpstreamCredentials({ OPENAI_KEY: 'sk-provider-secret' }),
          () => now,
        );
  const req = envoyCheckRequest(r);
  const decision = await c.check(checkInputFromEnvoy(req));
  // The same decision from the request as the gRPC server reads it (check-wire.ts: a HeaderList).
  expect(await c.check(checkInputFromWire(toBinary(CheckRequestSchema, req)))).toEqual(decision);
  return envoyCheckResponse(decision);
}

function ok(res: CheckResponse): OkHttpResponse {
  expect(res.status?.code).toBe(0);
  expect(res.httpResponse.case).toBe('okResponse');
  return res.httpResponse.value as OkHttpResponse;
}

function denied(res: CheckResponse) {
  expect(res.status?.code).not.toBe(0);
  expect(res.httpResponse.case).toBe('deniedResponse');
  const d = res.httpResponse.value as {
    status?: { code: number };
    headers: { header?: { key: string; value: string }; append?: boolean }[];
    body: string;
  };
  return {
    status: d.status?.code,
    headers: Object.fromEntries(d.headers.map((h) => [h.header!.key, h.header!.value])),
    body: JSON.parse(d.body),
    append: d.headers.map((h) => h.append),
  };
}

const headersOf = (o: OkHttpResponse) => Object.fromEntries(o.headers.map((h) => [h.header!.key, h.header!.value]));
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const chat = (model: string, content = 'Summarise our Q3 plan.') => ({
  model,
  messages: [{ role: 'user', content }],
  max_tokens: 100,
});

describe('ext-authz decisions on the example policy', () => {
  it('dispatches /execute on agent_type and sets identity, routing headers and metadata', async () => {
    const res = await check({
      path: '/execute',
      policy: 'dispatch/execute-research',
      headers: bearer(exampleKeys['agents-service']),
      body: { agent_type: 'research', task: 'x' },
    });
    const o = ok(res);
    expect(headersOf(o)).toMatchObject({
      'x-aigw-dispatch': 'execute-research',
      'x-aigw-body-agent-type': 'research',
      'x-aigw-client': 'agents-service',
      'x-aigw-tenant': 'platform',
      'x-aigw-route': 'execute-research',
    });
    expect(o.headers.every((h) => h.append === false)).toBe(true);
    expect(o.headersToRemove).toContain('authorization');
    expect(res.dynamicMetadata).toMatchObject({
      client: 'agents-service',
      tenant: 'platform',
      route: 'execute-research',
    });
  });

  it('routes other agent types to the catch-all member', async () => {
    const o = ok(
      await check({
        path: '/execute',
        policy: 'dispatch/execute-research',
        headers: { 'x-api-key': exampleKeys['agents-service'] },
        body: { agent_type: 'coder' },
      }),
    );
    expect(headersOf(o)['x-aigw-dispatch']).toBe('execute');
  });

  it('lets a client use its allowed model and injects the provider key for the route’s backends', async () => {
    const res = await check({
      path: '/v1/chat/completions',
      policy: 'dispatch/chat-personal-data',
      headers: bearer(exampleKeys['hr-assistant']),
      body: chat('gpt-4o-mini'),
    });
    const h = headersOf(ok(res));
    expect(h).toMatchObject({
      'x-aigw-dispatch': 'chat-openai',
      'x-aigw-body-model': 'gpt-4o-mini',
      'x-aigw-model': 'gpt-4o-mini',
      'x-aigw-personal-data': 'false',
    });
    expect(h['x-aigw-credential-openai']).toBe('Bearer sk-provider-secret');
    expect(Number(h['x-aigw-estimated-tokens'])).toBeGreaterThan(100);
    expect(res.dynamicMetadata).toMatchObject({
      client: 'hr-assistant',
      tenant: 'hr',
      model: 'gpt-4o-mini',
      route: 'chat-openai',
    });
  });

  it('denies a model the client may not use with 403', async () => {
    const d = denied(
      await check({
        path: '/v1/chat/completions',
        policy: 'dispatch/chat-personal-data',
        headers: bearer(exampleKeys['hr-assistant']),
        body: chat('gpt-4o'),
      }),
    );
    expect(d.status).toBe(403);
    expect(d.body.error.message).toBe('model "gpt-4o" is not allowed for client "hr-assistant"');
    expect(d.append.every((a) => a === false)).toBe(true);
  });

  it('keeps requests with personal data in-house', async () => {
    const h = headersOf(
      ok(
        await check({
          path: '/v1/chat/completions',
          policy: 'dispatch/chat-personal-data',
          headers: bearer(exampleKeys['support-bot']),
          body: chat('gpt-4o', 'Mail jane.doe@example.com about card 4111 1111 1111 1111'),
        }),
      ),
    );
    expect(h['x-aigw-dispatch']).toBe('chat-personal-data');
    expect(h['x-aigw-personal-data']).toBe('true');
    expect(h['x-aigw-credential-openai']).toBeUndefined();
  });

  it('asks for credentials with 401 and www-authenticate', async () => {
    const d = denied(
      await check({
        path: '/v1/embeddings',
        policy: 'dispatch/embeddings-openai',
        body: { model: 'bge-m3', input: 'x' },
      }),
    );
    expect(d.status).toBe(401);
    expect(d.headers['www-authenticate']).toBe('Bearer realm="ai-gateway"');
  });

  it('rejects duplicate, comma-joined, unknown and expired keys with 401', async () => {
    const body = { model: 'bge-m3', input: 'x' };
    const p = 'dispatch/embeddings-openai';
    const two = await check({
      path: '/v1/embeddings',
      policy: p,
      body,
      headers: { ...bearer(exampleKeys['support-bot']), 'x-api-key': exampleKeys['support-bot'] },
    });
    expect(denied(two).body.error.message).toBe('several credentials: send exactly one');
    // A malformed value is named first, wherever it is among the credential headers.
    const twoAndMalformed = await check({
      path: '/v1/embeddings',
      policy: p,
      body,
      headers: { ...bearer('aigw_k1'), 'x-api-key': 'aigw_k2', 'api-key': 'aigw_a aigw_b' },
    });
    expect(denied(twoAndMalformed).body.error.message).toBe('several credentials in one header');
    const joined = await check({
      path: '/v1/embeddings',
      policy: p,
      body,
      headers: { 'x-api-key': `${exampleKeys['support-bot']},${exampleKeys['hr-assistant']}` },
    });
    expect(denied(joined).status).toBe(401);
    expect(
      denied(await check({ path: '/v1/embeddings', policy: p, body, headers: bearer('aigw_nope') })).body.error.message,
    ).toBe('invalid API key');
    const expired = await check(
      { path: '/v1/embeddings', policy: p, body, headers: bearer(exampleKeys['support-bot-old']) },
      Date.UTC(2027, 0, 5),
    );
    expect(denied(expired).body.error.message).toBe('API key expired');
  });

  it('denies a route that names no policy, or an unknown one (fail closed)', async () => {
    expect(denied(await check({ path: '/x', headers: bearer(exampleKeys['support-bot']) })).status).toBe(403);
    expect(
      denied(await check({ path: '/x', policy: 'nope', headers: bearer(exampleKeys['support-bot']) })).body.error
        .message,
    ).toBe('unknown policy "nope"');
  });

  it('answers 400 for a body the route needs but cannot parse', async () => {
    const d = denied(
      await check({
        path: '/v1/chat/completions',
        policy: 'dispatch/chat-personal-data',
        headers: bearer(exampleKeys['support-bot']),
        body: '{"model": "gpt-4o",',
      }),
    );
    expect(d.status).toBe(400);
  });

  it('removes spoofed identity headers on an anonymous route', async () => {
    const o = ok(
      await check({
        method: 'GET',
        path: '/v1/models',
        policy: 'models',
        headers: { 'x-aigw-client': 'admin', 'x-aigw-tenant': 'hr' },
      }),
    );
    expect(o.headersToRemove).toEqual(
      expect.arrayContaining(['x-aigw-client', 'x-aigw-tenant', 'x-aigw-credential-openai']),
    );
    expect(headersOf(o)['x-aigw-client']).toBeUndefined();
  });

  it('overwrites spoofed identity headers with the real identity', async () => {
    const o = ok(
      await check({
        path: '/execute',
        policy: 'dispatch/execute-research',
        headers: { ...bearer(exampleKeys['agents-service']), 'x-aigw-client': 'admin' },
        body: { agent_type: 'x' },
      }),
    );
    expect(headersOf(o)['x-aigw-client']).toBe('agents-service');
  });

  it('denies a client outside the route’s client list with 403', async () => {
    const d = denied(
      await check({
        path: '/execute',
        policy: 'dispatch/execute-research',
        headers: bearer(exampleKeys['support-bot']),
        body: { agent_type: 'x' },
      }),
    );
    expect(d.status).toBe(403);
    expect(d.body.error.message).toBe('client "support-bot" may not use this route');
  });

  it('reads the body of a POST, PUT or PATCH in any case, also one that reads so in upper case only', async () => {
    // toUpperCase() maps "ſ" (long s) to "S": "poſt" reads as POST, and its missing body is denied.
    for (const method of ['POST', 'post', 'Put', 'patch', 'po\u017ft']) {
      const d = denied(
        await check({
          method,
          path: '/v1/chat/completions',
          policy: 'chat-in-house',
          headers: bearer(exampleKeys['agents-service']),
        }),
      );
      expect(d.body.error.message, method).toBe('this route needs a JSON request body');
    }
  });

  it('fails closed when a route that reads the body gets a POST without one', async () => {
    const d = denied(
      await check({
        path: '/v1/chat/completions',
        policy: 'chat-in-house',
        headers: bearer(exampleKeys['agents-service']),
      }),
    );
    expect(d.status).toBe(400);
    expect(d.body.error.message).toBe('this route needs a JSON request body');
  });
});
