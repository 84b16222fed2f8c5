// The simulator on the rendered envoy/envoy.yaml, against MOCK gRPC servers that only record what
// arrives (the wire) and answer with scripted responses. The gateway's real behaviour (policies,
// limits) is covered by scenario tests that run the real ext-authz and ratelimit-service.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CheckResponseSchema } from '../../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import { EnvoySimulator } from './index.js';
import {
  allowAll,
  type MockAuthz,
  type MockRateLimit,
  rateLimitOk,
  startMockAuthz,
  startMockRateLimit,
} from './mock-grpc-servers.js';

const envoyYaml = fileURLToPath(new URL('../../../envoy/envoy.yaml', import.meta.url));
const bootstrap = () => parse(readFileSync(envoyYaml, 'utf8'));

const set = (key: string, value: string) => ({ header: { key, value }, append: false });

/** An OK answer like ext-authz's for a dispatched chat request. */
const dispatched = (route: string, model: string) =>
  allowAll({
    httpResponse: {
      case: 'okResponse',
      value: {
        headers: [
          set('x-aigw-dispatch', route),
          set('x-aigw-body-model', model),
          set('x-aigw-client', 'hr-assistant'),
          set('x-aigw-credential-openai', 'sk-mock'),
        ],
        headersToRemove: ['authorization'],
      },
    },
    dynamicMetadata: { client: 'hr-assistant', tenant: 'hr' },
  });

const minuteStatus = (remaining: number) => ({
  code: 1,
  currentLimit: { requestsPerUnit: 10, unit: 2 },
  limitRemaining: remaining,
  durationUntilReset: { seconds: 42n },
});

describe('EnvoySimulator on the rendered envoy/envoy.yaml (mock side services)', () => {
  let authz: MockAuthz;
  let rls: MockRateLimit;
  let picks: number[];
  let sim: EnvoySimulator;

  beforeAll(async () => {
    authz = await startMockAuthz();
    rls = await startMockRateLimit();
    sim = new EnvoySimulator(bootstrap(), {
      authz: { host: '127.0.0.1', port: authz.port },
      ratelimit: { host: '127.0.0.1', port: rls.port },
      pick: () => picks.shift() ?? 0,
    });
  });
  afterAll(async () => {
    sim.close();
    await Promise.all([authz.close(), rls.close()]);
  });
  beforeEach(() => {
    authz.requests.length = 0;
    rls.requests.length = 0;
    authz.reply = () => allowAll();
    rls.reply = () => rateLimitOk();
    picks = [];
  });

  const chat = (model: string, extra: Record<string, string> = {}) =>
    sim.request({
      method: 'POST',
      path: '/v1/chat/completions?trace=1',
      headers: {
        authorization: 'Bearer aigw_test',
        'x-forwarded-for': '198.51.100.7',
        'x-aigw-client': 'forged',
        ...extra,
      },
      body: { model, messages: [{ role: 'user', content: 'hi' }] },
    });

  it('sends the CheckRequest Envoy sends for the first (dispatch) route', async () => {
    authz.reply = () => dispatched('chat-openai', 'gpt-4o');
    rls.reply = () => rateLimitOk({ statuses: [minuteStatus(7), minuteStatus(9)] });
    const r = await chat('gpt-4o');
    expect(r.firstRoute).toBe('dispatch_chat-personal-data');
    expect(authz.requests).toHaveLength(1);
    const a = authz.requests[0].attributes!;
    expect(a.contextExtensions).toEqual({ policy: 'dispatch/chat-personal-data' });
    const http = a.request!.http!;
    expect(http.method).toBe('POST');
    expect(http.path).toBe('/v1/chat/completions?trace=1');
    expect(http.host).toBe('llm.example.internal');
    expect(http.scheme).toBe('http');
    expect(http.protocol).toBe('HTTP/1.1');
    expect(http.id).toMatch(/^\d+$/);
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    // pack_as_bytes is not set, so Envoy sends the body as the `body` string, not raw_body.
    expect(http.body).toBe(body);
    expect(http.rawBody).toHaveLength(0);
    expect(http.size).toBe(BigInt(body.length));
    expect(http.headers).toMatchObject({
      ':authority': 'llm.example.internal',
      ':method': 'POST',
      ':path': '/v1/chat/completions?trace=1',
      ':scheme': 'http',
      authorization: 'Bearer aigw_test',
      'content-type': 'application/json',
      'content-length': String(body.length),
      'x-forwarded-for': '198.51.100.7,10.0.0.1',
      'x-forwarded-proto': 'http',
      'x-envoy-external-address': '198.51.100.7',
      'x-envoy-auth-partial-body': 'false',
    });
    expect(http.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // Early header mutation removed the forged reserved header before anything else saw it.
    expect(http.headers).not.toHaveProperty('x-aigw-client');
    expect(http.headers).not.toHaveProperty('x-envoy-internal');
    // The source is the TCP peer, not the X-Forwarded-For client.
    const src = a.source!.address!.address;
    expect(src.case === 'socketAddress' && src.value.address).toBe('10.0.0.1');
    const dst = a.destination!.address!.address;
    expect(dst.case === 'socketAddress' && dst.value.portSpecifier.value).toBe(8080);
  });

  it('re-routes on the ext_authz headers, then rate limits with the authz metadata', async () => {
    authz.reply = () => dispatched('chat-openai', 'gpt-4o');
    rls.reply = () => rateLimitOk({ statuses: [minuteStatus(7), minuteStatus(9)] });
    const r = await chat('gpt-4o');
    expect(r.status).toBe(200);
    expect(r.route).toBe('chat-openai');
    expect(r.authz).toMatchObject({ called: true, allowed: true, metadata: { client: 'hr-assistant', tenant: 'hr' } });
    expect(rls.requests).toHaveLength(1);
    const q = rls.requests[0];
    expect(q.domain).toBe('ai-gateway');
    expect(q.hitsAddend).toBe(0);
    const wire = q.descriptors.map((d) => d.entries.map((e) => ({ key: e.key, value: e.value })));
    expect(wire).toEqual([
      [
        { key: 'limit', value: 'department-daily' },
        { key: 'tenant', value: 'hr' },
      ],
      [
        { key: 'limit', value: 'client-per-minute' },
        { key: 'client', value: 'hr-assistant' },
      ],
    ]);
    expect(r.ratelimit).toEqual({ called: true, overall: 'OK', descriptors: wire });
    expect(r.responseHeaders).toMatchObject({
      'x-ratelimit-limit': '10, 10;w=60, 10;w=60',
      'x-ratelimit-remaining': '7',
      'x-ratelimit-reset': '42',
    });
    expect(r.cluster).toBe('failover_openai_vllm-small');
    expect(r.backendCluster).toBe('backend_openai');
    expect(r.upstreamHeaders).toMatchObject({
      ':path': '/v1/chat/completions?trace=1',
      'x-aigw-dispatch': 'chat-openai',
    });
    expect(r.upstreamHeaders).not.toHaveProperty('authorization', 'Bearer aigw_test');
  });

  it('behind the aggregate failover cluster, the aggregate’s upstream filters inject the primary’s key (as Envoy runs the router cluster’s chain)', async () => {
    authz.reply = () => dispatched('chat-openai', 'gpt-4o');
    const r = await chat('gpt-4o');
    expect(r.upstreamHeaders?.authorization).toBe('sk-mock');
    expect(r.upstreamHeaders).not.toHaveProperty('x-aigw-credential-openai');
    expect(r.upstreamHeaders?.[':authority']).toBe('api.openai.com');
  });

  it('applies the picked cluster upstream filters (direct cluster route)', async () => {
    authz.reply = () =>
      allowAll({
        httpResponse: {
          case: 'okResponse',
          value: {
            headers: [
              set('x-aigw-dispatch', 'embeddings-openai'),
              set('x-aigw-body-model', 'text-embedding-3-small'),
              set('x-aigw-credential-openai', 'sk-mock'),
            ],
          },
        },
      });
    const r = await sim.request({
      method: 'POST',
      path: '/v1/embeddings',
      headers: { 'x-forwarded-for': '198.51.100.7' },
      body: { model: 'text-embedding-3-small', input: 'x' },
    });
    expect(r.route).toBe('embeddings-openai');
    expect(r.cluster).toBe('backend_openai');
    expect(r.backendCluster).toBe('backend_openai');
    expect(r.upstreamHeaders?.authorization).toBe('sk-mock');
    expect(r.upstreamHeaders).not.toHaveProperty('x-aigw-credential-openai');
  });

  it('picks weighted clusters with opts.pick and runs that cluster upstream filters', async () => {
    authz.reply = () => dispatched('chat-llama-small', 'llama-3.1-8b');
    picks = [0.95];
    const next = await chat('llama-3.1-8b');
    expect(next.route).toBe('chat-llama-small');
    expect(next.backendCluster).toBe('backend_vllm-next');
    expect(next.cluster).toBe('backend_vllm-next');
    expect(next.upstreamHeaders).not.toHaveProperty('x-aigw-credential-openai');
    picks = [0.89];
    expect((await chat('llama-3.1-8b')).backendCluster).toBe('backend_vllm-small');
  });

  it('rate-limits a private peer without X-Forwarded-For too (request_type both)', async () => {
    authz.reply = () => dispatched('chat-in-house', 'other');
    const r = await sim.request({ method: 'POST', path: '/v1/chat/completions', body: { model: 'other' } });
    expect(authz.requests[0].attributes?.request?.http?.headers['x-envoy-internal']).toBe('true');
    expect(r.status).toBe(200);
    expect(r.route).toBe('chat-in-house');
    expect(r.ratelimit).toMatchObject({ called: true });
    expect(rls.requests).toHaveLength(1);
  });

  it('uses the client from X-Forwarded-For (1 trusted hop) for remote_address', async () => {
    authz.reply = () =>
      allowAll({ httpResponse: { case: 'okResponse', value: { headers: [set('x-aigw-dispatch', 'execute')] } } });
    const r = await sim.request({
      method: 'POST',
      path: '/execute',
      headers: { 'x-forwarded-for': '192.0.2.1, 203.0.113.50' },
      sourceIp: '10.9.9.9',
    });
    expect(r.route).toBe('execute');
    expect(r.ratelimit?.descriptors).toEqual([
      [
        { key: 'limit', value: 'execute-per-ip' },
        { key: 'remote_address', value: '203.0.113.50' },
      ],
    ]);
    expect(r.upstreamHeaders?.['x-forwarded-for']).toBe('192.0.2.1, 203.0.113.50,10.9.9.9');
  });

  it('returns the denial as ext-authz built it, without calling the rate limit service', async () => {
    authz.reply = () =>
      create(CheckResponseSchema, {
        status: { code: 16 },
        httpResponse: {
          case: 'deniedResponse',
          value: {
            status: { code: 401 },
            headers: [set('content-type', 'application/json'), set('www-authenticate', 'Bearer realm="ai-gateway"')],
            body: '{"error":"no"}',
          },
        },
      });
    const r = await chat('gpt-4o');
    expect(r.status).toBe(401);
    expect(r.body).toBe('{"error":"no"}');
    expect(r.responseHeaders).toMatchObject({
      'content-type': 'application/json',
      'www-authenticate': 'Bearer realm="ai-gateway"',
    });
    expect(r.authz).toMatchObject({ called: true, allowed: false });
    expect(r.ratelimit?.called).toBe(false);
    expect(rls.requests).toHaveLength(0);
  });

  it('answers 429 with x-envoy-ratelimited and the X-RateLimit headers when over the limit', async () => {
    authz.reply = () => dispatched('chat-openai', 'gpt-4o');
    rls.reply = () =>
      rateLimitOk({
        overallCode: 2,
        statuses: [
          {
            code: 1,
            currentLimit: { requestsPerUnit: 1000, unit: 4 },
            limitRemaining: 500,
            durationUntilReset: { seconds: 3600n },
          },
          {
            code: 2,
            currentLimit: { requestsPerUnit: 10, unit: 2 },
            limitRemaining: 0,
            durationUntilReset: { seconds: 30n },
          },
        ],
        responseHeadersToAdd: [{ key: 'x-mock', value: '1' }],
      });
    const r = await chat('gpt-4o');
    expect(r.status).toBe(429);
    expect(r.ratelimit?.overall).toBe('OVER_LIMIT');
    expect(r.responseHeaders).toMatchObject({
      'x-envoy-ratelimited': 'true',
      'x-ratelimit-limit': '10, 1000;w=86400, 10;w=60',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '30',
      'x-mock': '1',
    });
    expect(r.upstreamHeaders).toBeUndefined();
  });

  it('fails closed: 500 on a rate limit service error (failure_mode_deny)', async () => {
    authz.reply = () => dispatched('chat-openai', 'gpt-4o');
    rls.reply = () => ({ error: grpc.status.UNAVAILABLE });
    const r = await chat('gpt-4o');
    expect(r.status).toBe(500);
    expect(r.ratelimit).toMatchObject({ called: true });
    expect(r.ratelimit?.error).toMatch(/UNAVAILABLE/);
  });

  it('fails closed: 503 when ext-authz times out (grpc_service.timeout 0.250s)', async () => {
    authz.reply = () => ({ delayMs: 600, answer: allowAll() });
    const started = Date.now();
    const r = await chat('gpt-4o');
    expect(r.status).toBe(503);
    expect(r.authz?.error).toMatch(/DEADLINE_EXCEEDED/);
    expect(Date.now() - started).toBeLessThan(550);
  });

  it('answers 413 for a body over max_request_bytes without calling ext-authz', async () => {
    const r = await sim.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'x-forwarded-for': '198.51.100.7' },
      body: 'x'.repeat(262145),
    });
    expect(r.status).toBe(413);
    expect(r.body).toBe('Payload Too Large');
    expect(authz.requests).toHaveLength(0);
  });

  it('sends no body and no x-envoy-auth-partial-body for a bodiless GET', async () => {
    const r = await sim.request({ method: 'GET', path: '/v1/models', headers: { 'x-forwarded-for': '198.51.100.7' } });
    expect(r.status).toBe(200);
    expect(r.route).toBe('models');
    const http = authz.requests[0].attributes!.request!.http!;
    expect(http.body).toBe('');
    expect(http.headers).not.toHaveProperty('x-envoy-auth-partial-body');
    expect(authz.requests[0].attributes?.contextExtensions).toEqual({ policy: 'models' });
    expect(r.ratelimit).toMatchObject({ called: false, skipped: 'no descriptors' });
  });

  it('keeps the dispatch direct_response when ext_authz allows without dispatching', async () => {
    const r = await chat('gpt-4o');
    expect(r.status).toBe(500);
    expect(r.route).toBe('dispatch_chat-personal-data');
    expect(r.body).toBe('gateway: the request was not dispatched\n');
    expect(r.responseHeaders['content-type']).toBe('text/plain');
  });

  it('redirects escaped slashes, 404s unknown hosts and paths without calling ext-authz', async () => {
    const redirect = await sim.request({ method: 'GET', path: '/v1/..%2Fv1//models?a=%2F' });
    expect(redirect.status).toBe(307);
    expect(redirect.responseHeaders.location).toBe('/v1/models?a=%2F');
    expect((await sim.request({ method: 'GET', path: '/v1/models', host: 'other.example' })).status).toBe(404);
    expect((await sim.request({ method: 'GET', path: '/v1/models', host: 'llm.example.internal:9999' })).status).toBe(
      404,
    );
    expect((await sim.request({ method: 'GET', path: '/v2/models' })).status).toBe(404);
    expect(authz.requests).toHaveLength(0);
    expect((await sim.request({ method: 'GET', path: '/v1/models', host: 'llm.example.internal:8080' })).route).toBe(
      'models',
    );
  });

  it('rejects header names with underscores (headers_with_underscores_action REJECT_REQUEST)', async () => {
    const r = await sim.request({ method: 'GET', path: '/v1/models', headers: { x_aigw_client: 'x' } });
    expect(r.status).toBe(400);
    expect(authz.requests).toHaveLength(0);
  });

  it('serves the stats listener without any filter but the router', async () => {
    const r = await sim.request({ listenerPort: 19001, method: 'GET', path: '/ready', host: 'anything' });
    expect(r.status).toBe(200);
    expect(r.cluster).toBe('envoy_admin');
    expect(r.authz?.called).toBe(false);
    expect((await sim.request({ listenerPort: 19001, method: 'GET', path: '/config_dump' })).status).toBe(404);
  });
});
