import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileFile } from '../../../../test/support/compile-file.js';
import type { GatewayModel, Route } from '../../model/types.js';
import { emitIngressNginx } from '../ingress/ingress-nginx.js';
import { gatewayDuration, ingressOutputFiles } from '../ingress/shared.js';
import { emitGatewayApi, listenerHostnames } from './gateway-api.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read by the assertions below
type Json = Record<string, any>;
const splitFixture = 'generator/src/emit/ingress/testdata/split-and-edges.yaml';

function gatewayApi(model: GatewayModel) {
  const out = emitGatewayApi(model, 'gateway.yaml');
  const objects = (parseAllDocuments(out.files.get(ingressOutputFiles.gatewayApi)!) as { toJS(): Json }[]).map((d) =>
    d.toJS(),
  );
  return { out, gateway: objects[0], routes: objects.slice(1) };
}

describe('emitGatewayApi on the example', () => {
  const { model } = compileFile('examples/gateway.yaml');
  const { out, gateway, routes } = gatewayApi(model);

  it('writes one Gateway with a listener per gateway.yaml listener and one HTTPRoute per listener', () => {
    expect([...out.files.keys()]).toEqual([ingressOutputFiles.gatewayApi, ingressOutputFiles.backendServices]);
    expect(gateway).toMatchObject({
      kind: 'Gateway',
      metadata: { name: 'ai-gateway', namespace: 'ai-gateway' },
      spec: {
        gatewayClassName: 'envoy-gateway',
        // llm.example.internal and llm.example.internal:8080: one host name once the port is dropped.
        listeners: [{ name: 'public', hostname: 'llm.example.internal', port: 8080, protocol: 'HTTP' }],
      },
    });
    expect(routes).toHaveLength(1);
    expect(routes[0].metadata.name).toBe('ai-gateway-public');
    expect(routes[0].spec.parentRefs).toEqual([{ name: 'ai-gateway', sectionName: 'public' }]);
    expect(routes[0].spec.hostnames).toBeUndefined();
    expect(routes[0].spec.rules).toEqual([
      {
        matches: [{ path: { type: 'Exact', value: '/v1/models' }, method: 'GET' }],
        filters: [
          {
            type: 'RequestHeaderModifier',
            requestHeaderModifier: {
              remove: [
                'x-aigw-client',
                'x-aigw-tenant',
                'x-aigw-model',
                'x-aigw-route',
                'x-aigw-dispatch',
                'x-aigw-personal-data',
                'x-aigw-estimated-tokens',
                'x-aigw-body-agent-type',
                'x-aigw-body-model',
                'x-aigw-credential-openai',
              ],
            },
          },
        ],
        backendRefs: [{ name: 'ai-gateway-backend-vllm', port: 8000 }],
        timeouts: { request: '10s' },
      },
    ]);
  });

  it('warns about every feature it leaves out', () => {
    expect(out.warnings).toEqual([
      'gateway-api: routes "execute-research", "execute" (POST exact /execute): body dispatch is not expressed ' +
        '(an HTTPRoute cannot match on the request body, so match.body / match.personal_data cannot be told apart; ' +
        'left out: route on the body with Envoy)',
      'gateway-api: routes "chat-personal-data", "chat-openai", "chat-llama-small", "chat-in-house" ' +
        '(POST exact /v1/chat/completions): body dispatch is not expressed (an HTTPRoute cannot match on the ' +
        'request body, so match.body / match.personal_data cannot be told apart; left out: route on the body with Envoy)',
      'gateway-api: routes "embeddings-openai", "embeddings-in-house" (POST exact /v1/embeddings): body dispatch is ' +
        'not expressed (an HTTPRoute cannot match on the request body, so match.body / match.personal_data cannot ' +
        'be told apart; left out: route on the body with Envoy)',
      'gateway-api: route "models": limits "tenant-tokens-per-minute", "tenant-model-tokens-daily" are not ' +
        'expressed (request and token limits need Envoy and the rate-limit service)',
      'gateway-api: backend "vllm" is an ExternalName Service, whose support Gateway API leaves to the ' +
        'implementation (check that yours forwards to them)',
    ]);
  });

  it('shares one backend-services.yaml with the ingress-nginx output, byte for byte', () => {
    const nginx = emitIngressNginx(model, 'gateway.yaml');
    const file = ingressOutputFiles.backendServices;
    expect(out.files.get(file)).toBeDefined();
    expect(nginx.files.get(file)).toBe(out.files.get(file));
  });
});

describe('emitGatewayApi: matches, splits, listeners', () => {
  const { model } = compileFile(splitFixture);
  const { out, gateway, routes } = gatewayApi(model);
  const rules = routes.find((r) => r.metadata.name === 'edge-public')!.spec.rules as Json[];

  it('turns a 90/10 split into weighted backendRefs', () => {
    expect(rules[0].matches).toEqual([{ path: { type: 'Exact', value: '/v1/completions' } }]);
    expect(rules[0].backendRefs).toEqual([
      { name: 'small', port: 8000, weight: 90 },
      { name: 'edge-backend-next', port: 8000, weight: 10 },
    ]);
    // All three backends of a three-way split, unlike an ingress-nginx canary.
    expect(rules[1].backendRefs.map((b: Json) => b.weight)).toEqual([50, 30, 20]);
  });

  it('writes one match per method, with path and header matches, in gateway.yaml order', () => {
    expect(rules.map((r) => r.matches[0].path)).toEqual([
      { type: 'Exact', value: '/v1/completions' },
      { type: 'PathPrefix', value: '/v2/' },
      { type: 'PathPrefix', value: '/v3' },
      { type: 'Exact', value: '/items' },
      { type: 'Exact', value: '/items' },
    ]);
    expect(rules[3].matches).toEqual([
      {
        path: { type: 'Exact', value: '/items' },
        headers: [{ name: 'x-tenant', type: 'RegularExpression', value: '^team-.*' }],
        method: 'GET',
      },
    ]);
    expect(rules[4].matches.map((m: Json) => m.method)).toEqual(['POST', 'PUT']);
    expect(out.warnings).toContain(
      'gateway-api: route "cloud-canary": prefix "/v3" matches whole path elements in Gateway API ' +
        '(/v3 and /v3/…, not /v3x as in Envoy)',
    );
  });

  it('terminates TLS with the tls secret, takes host names from the listeners', () => {
    expect(gateway.spec.gatewayClassName).toBe('istio');
    expect(gateway.spec.listeners).toEqual([
      {
        name: 'public',
        port: 8080,
        protocol: 'HTTPS',
        tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'llm-tls' }] },
      },
      {
        name: 'internal',
        hostname: '*.internal.example.com',
        port: 9090,
        protocol: 'HTTPS',
        tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'llm-tls' }] },
      },
    ]);
    expect(routes.find((r) => r.metadata.name === 'edge-public')!.spec.hostnames).toEqual([
      'llm.example.com',
      'api.example.com',
    ]);
    const internal = routes.find((r) => r.metadata.name === 'edge-internal')!;
    expect(internal.spec.parentRefs).toEqual([{ name: 'edge', sectionName: 'internal' }]);
    // Streaming: no whole-request timeout, as in Envoy.
    expect(internal.spec.rules[0].timeouts).toEqual({ request: '0s' });
  });

  it('follows the Gateway API host name rules', () => {
    const l = (hosts: string[]) => listenerHostnames({ name: 'l', address: '', port: 1, hosts, trustedProxies: 0 });
    expect(l(['*'])).toEqual({});
    expect(l(['a.example.com', '*'])).toEqual({});
    expect(l(['A.example.com:8080', 'a.example.com'])).toEqual({ hostname: 'a.example.com' });
    expect(l(['*.example.com'])).toEqual({ hostname: '*.example.com' });
    expect(l(['a.example.com', 'b.example.com'])).toEqual({ routeHostnames: ['a.example.com', 'b.example.com'] });
    expect(l(['10.0.0.1', 'a.example.com'])).toEqual({ unexpressed: ['10.0.0.1'] });
    expect(l(['*-api.example.com'])).toEqual({ unexpressed: ['*-api.example.com'] });
  });

  it('writes the regex route of failover-split-limits as RegularExpression and reports what it cannot express', () => {
    const golden = gatewayApi(compileFile('test/golden/failover-split-limits/gateway.yaml').model);
    const [chat, app] = golden.routes[0].spec.rules as Json[];
    expect(app.matches).toEqual([
      { path: { type: 'RegularExpression', value: '^/app/[a-z]+$' }, method: 'GET' },
      { path: { type: 'RegularExpression', value: '^/app/[a-z]+$' }, method: 'POST' },
    ]);
    expect(app.backendRefs).toEqual([
      { name: 'llm-gw-backend-blue', port: 8080, weight: 80 },
      { name: 'llm-gw-backend-green', port: 8080, weight: 20 },
    ]);
    expect(chat.matches).toEqual([{ path: { type: 'PathPrefix', value: '/v1/chat/' } }]);
    expect(chat.filters[1]).toEqual({ type: 'URLRewrite', urlRewrite: { hostname: 'primary.example.com' } });
    expect(chat.timeouts).toEqual({ request: '90s' });
    expect(golden.out.warnings).toEqual(
      expect.arrayContaining([
        'gateway-api: route "app": header match "x-canary" absent is not expressed (Gateway API has no negative ' +
          'match: requests with the header reach the route too)',
        'gateway-api: route "app": ext-authz is not expressed (no API key, JWT, client, model or personal-data ' +
          "check: attach your implementation's external authorization to ext-authz's HTTP check)",
        'gateway-api: route "chat": failover to "secondary", "cheap" is not expressed (retries and failover need Envoy)',
        'gateway-api: route "chat": retries are not expressed (retries and failover need Envoy)',
        'gateway-api: backend "primary": TLS to the backend is not expressed (it needs a BackendTLSPolicy for SNI ' +
          'primary.example.com, which is not generated): without one the Gateway speaks plain HTTP to it',
      ]),
    );
  });

  it('splits a listener with more than 16 routes over HTTPRoutes named in rule order', () => {
    const { model: base } = compileFile('test/golden/minimal/gateway.yaml');
    const model = structuredClone(base);
    const template = model.routes[0];
    model.routes = Array.from(
      { length: 20 },
      (_, i): Route => ({
        ...structuredClone(template),
        name: `r${i}`,
        index: i,
        match: { ...template.match, path: { kind: 'exact', value: `/r${i}` } },
      }),
    );
    const { routes: httpRoutes } = gatewayApi(model);
    expect(httpRoutes.map((r) => [r.metadata.name, r.spec.rules.length])).toEqual([
      ['ai-gateway-web.01', 16],
      ['ai-gateway-web.02', 4],
    ]);
    expect(httpRoutes[1].spec.rules[0].matches[0].path.value).toBe('/r16');
  });

  it('writes durations in the Gateway API format', () => {
    expect(gatewayDuration(0)).toBe('0s');
    expect(gatewayDuration(60_000)).toBe('60s');
    expect(gatewayDuration(1_500)).toBe('1500ms');
    expect(gatewayDuration(100_000_500)).toBe('27h46m40s500ms');
    for (const ms of [0, 1, 999, 60_000, 99_999_000, 100_000_000, 100_000_500])
      expect(gatewayDuration(ms)).toMatch(/^([0-9]{1,5}(h|m|s|ms)){1,4}$/);
  });
});
