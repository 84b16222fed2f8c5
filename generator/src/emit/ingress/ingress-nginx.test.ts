import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileFile } from '../../../../test/support/compile-file.js';
import { existingBackendServices } from './backend-services.js';
import { authResponseHeaders, emitIngressNginx, ingressPath, nginxRegexPath } from './ingress-nginx.js';
import { ingressOutputFiles } from './shared.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read by the assertions below
type Json = Record<string, any>;
const a = 'nginx.ingress.kubernetes.io/';
const splitFixture = 'generator/src/emit/ingress/testdata/split-and-edges.yaml';

function ingresses(rel: string) {
  const { model } = compileFile(rel);
  const out = emitIngressNginx(model, 'gateway.yaml');
  const text = out.files.get(ingressOutputFiles.ingressNginx);
  const objects = text ? (parseAllDocuments(text) as { toJS(): Json }[]).map((d) => d.toJS()) : [];
  const byName = new Map<string, Json>(objects.map((o) => [o.metadata.name, o]));
  return { model, out, objects, byName, text };
}
const onlyPath = (i: Json) => i.spec.rules[0].http.paths[0];

describe('emitIngressNginx on the example', () => {
  const { model, out, objects, byName } = ingresses('examples/gateway.yaml');

  it('writes one protected Ingress per route it can express, and the backend Services', () => {
    expect([...out.files.keys()]).toEqual([ingressOutputFiles.ingressNginx, ingressOutputFiles.backendServices]);
    expect(objects.map((o) => o.metadata.name)).toEqual(['ai-gateway-models']);
    const ing = byName.get('ai-gateway-models')!;
    expect(ing.metadata.namespace).toBe('ai-gateway');
    expect(ing.spec.ingressClassName).toBe('nginx');
    expect(ing.spec.tls).toBeUndefined();
    expect(ing.spec.rules[0].host).toBeUndefined();
    expect(ing.metadata.annotations).toEqual({
      [`${a}auth-url`]: 'http://ext-authz.ai-gateway.svc.cluster.local:9002/check?policy=models',
      [`${a}auth-method`]: 'GET',
      [`${a}auth-response-headers`]:
        'x-aigw-client,x-aigw-tenant,x-aigw-model,x-aigw-route,x-aigw-dispatch,x-aigw-personal-data,' +
        'x-aigw-estimated-tokens,x-aigw-body-agent-type,x-aigw-body-model,authorization,x-api-key,api-key',
      [`${a}proxy-read-timeout`]: '10',
      [`${a}proxy-send-timeout`]: '10',
    });
    // vllm.models.svc.cluster.local is in another namespace: an ExternalName Service of ours.
    expect(onlyPath(ing)).toEqual({
      path: '/v1/models',
      pathType: 'Exact',
      backend: { service: { name: 'ai-gateway-backend-vllm', port: { number: 8000 } } },
    });
    expect(existingBackendServices(model)).toEqual([]);
  });

  it('passes the identity headers upstream and never a provider key', () => {
    const headers = authResponseHeaders(model);
    expect(headers.slice(0, 4)).toEqual(['x-aigw-client', 'x-aigw-tenant', 'x-aigw-model', 'x-aigw-route']);
    expect(headers.some((h) => h.startsWith('x-aigw-credential-'))).toBe(false);
  });

  it('warns about every feature it leaves out', () => {
    expect(out.warnings).toEqual([
      'ingress-nginx: routes "execute-research", "execute" (POST exact /execute): body dispatch is not expressed ' +
        '(nginx sends no request body to ext-authz, so match.body / match.personal_data cannot be told apart; ' +
        'left out: route on the body with Envoy)',
      'ingress-nginx: routes "chat-personal-data", "chat-openai", "chat-llama-small", "chat-in-house" ' +
        '(POST exact /v1/chat/completions): body dispatch is not expressed (nginx sends no request body to ' +
        'ext-authz, so match.body / match.personal_data cannot be told apart; left out: route on the body with Envoy)',
      'ingress-nginx: routes "embeddings-openai", "embeddings-in-house" (POST exact /v1/embeddings): body dispatch ' +
        'is not expressed (nginx sends no request body to ext-authz, so match.body / match.personal_data cannot be ' +
        'told apart; left out: route on the body with Envoy)',
      'ingress-nginx: listener hosts "llm.example.internal", "llm.example.internal:8080" are not expressed ' +
        '(the Ingresses have no host and match every host: set kubernetes.ingress.host)',
      'ingress-nginx: route "models": method match (GET) is not expressed (every method reaches the route)',
      'ingress-nginx: route "models": limits "tenant-tokens-per-minute", "tenant-model-tokens-daily" are not ' +
        'expressed (request and token limits need Envoy and the rate-limit service)',
    ]);
  });
});

describe('emitIngressNginx: paths', () => {
  it('maps exact to Exact, a prefix ending in "/" to Prefix and other prefixes to a plain nginx prefix', () => {
    expect(ingressPath({ kind: 'exact', value: '/v1/models' }, false)).toEqual({
      path: '/v1/models',
      pathType: 'Exact',
    });
    expect(ingressPath({ kind: 'prefix', value: '/v1/' }, false)).toEqual({ path: '/v1/', pathType: 'Prefix' });
    expect(ingressPath({ kind: 'prefix', value: '/' }, false)).toEqual({ path: '/', pathType: 'Prefix' });
    // Prefix "/v1" would match whole elements only (not "/v1beta"); Envoy's prefix is a string prefix.
    expect(ingressPath({ kind: 'prefix', value: '/v1' }, false)).toEqual({
      path: '/v1',
      pathType: 'ImplementationSpecific',
    });
  });

  it('keeps the meaning of every path once the host is in regex mode', () => {
    expect(ingressPath({ kind: 'exact', value: '/v1/models.json' }, true)).toEqual({
      path: '/v1/models\\.json$',
      pathType: 'ImplementationSpecific',
    });
    expect(ingressPath({ kind: 'prefix', value: '/v1/' }, true)).toEqual({
      path: '/v1/',
      pathType: 'ImplementationSpecific',
    });
    expect(nginxRegexPath('^/app/[a-z]+$')).toBe('/app/[a-z]+$');
    expect(nginxRegexPath('/app/(a|b)')).toBe('/app/(a|b)$');
    expect(nginxRegexPath('/price\\$')).toBe('/price\\$$');
    // Not starting with "/", or alternatives at the top: anchored as a whole, still starting with "/".
    expect(nginxRegexPath('^/a$|^/b$')).toBe('/{0}(?:^/a$|^/b$)$');
    expect(nginxRegexPath('.*\\.json')).toBe('/{0}(?:.*\\.json)$');
    for (const [re, path, hit] of [
      ['^/a$|^/b$', '/b', true],
      ['^/a$|^/b$', '/c', false],
      ['.*\\.json', '/x/y.json', true],
      ['.*\\.json', '/x/y.jsonp', false],
      ['/app/(a|b)', '/app/b', true],
      ['/app/(a|b)', '/app/bc', false],
    ] as const) {
      // What ingress-nginx writes: location ~* "^<path>"
      expect(new RegExp(`^${nginxRegexPath(re)}`, 'i').test(path), `${re} on ${path}`).toBe(hit);
    }
  });

  it('writes the regex route of failover-split-limits with use-regex, and every path of the host too', () => {
    const { byName, out } = ingresses('test/golden/failover-split-limits/gateway.yaml');
    const app = byName.get('llm-gw-app')!;
    expect(onlyPath(app)).toMatchObject({ path: '/app/[a-z]+$', pathType: 'ImplementationSpecific' });
    expect(app.metadata.annotations[`${a}use-regex`]).toBe('true');
    const chat = byName.get('llm-gw-chat')!;
    expect(onlyPath(chat)).toMatchObject({ path: '/v1/chat/', pathType: 'ImplementationSpecific' });
    expect(chat.metadata.annotations[`${a}use-regex`]).toBe('true');
    expect(out.warnings).toContain(
      'ingress-nginx: route "app": its path needs use-regex, which ingress-nginx applies to every path of the host ' +
        '(all paths, also of other Ingresses on the host, become case-insensitive regexes; the generated ones keep their meaning)',
    );
  });
});

describe('emitIngressNginx: backends, splits and what nginx cannot do', () => {
  const { byName, out, text } = ingresses(splitFixture);

  it('turns a 90/10 split into a canary Ingress with weight 10 on the same host and path', () => {
    const main = byName.get('edge-completions')!;
    const canary = byName.get('edge-completions.canary')!;
    expect(main.metadata.annotations[`${a}canary`]).toBeUndefined();
    expect(canary.metadata.annotations).toMatchObject({ [`${a}canary`]: 'true', [`${a}canary-weight`]: '10' });
    expect(canary.metadata.annotations[`${a}canary-weight-total`]).toBeUndefined();
    expect(canary.spec.rules[0].host).toBe(main.spec.rules[0].host);
    expect(onlyPath(canary).path).toBe(onlyPath(main).path);
    // small.llm.svc.cluster.local is in the gateway's namespace: referenced as it is.
    expect(onlyPath(main).backend.service).toEqual({ name: 'small', port: { number: 8000 } });
    expect(onlyPath(canary).backend.service).toEqual({ name: 'edge-backend-next', port: { number: 8000 } });
  });

  it('uses canary-weight-total when the weights do not add up to 100, and reports canary backend settings', () => {
    const canary = byName.get('edge-cloud-canary.canary')!;
    expect(canary.metadata.annotations).toMatchObject({
      [`${a}canary-weight`]: '1',
      [`${a}canary-weight-total`]: '4',
      [`${a}backend-protocol`]: 'HTTPS',
      [`${a}upstream-vhost`]: 'api.cloud.example',
    });
    expect(onlyPath(byName.get('edge-cloud-canary')!)).toMatchObject({
      path: '/v3',
      pathType: 'ImplementationSpecific',
    });
    expect(out.warnings).toContain(
      'ingress-nginx: route "cloud-canary": canary backend "cloud" gets the backend-protocol and upstream-vhost of ' +
        '"metal" (ingress-nginx ignores those annotations on a canary Ingress)',
    );
  });

  it('sets host and TLS from kubernetes.ingress, timeouts, and streaming without buffering', () => {
    const stream = byName.get('edge-stream')!;
    expect(stream.spec).toMatchObject({
      ingressClassName: 'nginx-internal',
      tls: [{ hosts: ['llm.example.com'], secretName: 'llm-tls' }],
      rules: [{ host: 'llm.example.com' }],
    });
    expect(stream.metadata.annotations).toMatchObject({
      [`${a}proxy-read-timeout`]: '300',
      [`${a}proxy-buffering`]: 'off',
    });
    // kubectl reads YAML 1.1, where a plain off is false: it must be quoted.
    expect(text).toContain(`${a}proxy-buffering: "off"`);
  });

  it('warns instead of dropping: splits over 3, look-alike routes, unreachable backends', () => {
    expect(onlyPath(byName.get('edge-three-way')!)).toMatchObject({ path: '/v2/', pathType: 'Prefix' });
    expect(byName.has('edge-write')).toBe(false);
    expect(byName.has('edge-loopback')).toBe(false);
    expect(out.warnings).toEqual(
      expect.arrayContaining([
        'ingress-nginx: route "three-way": weighted split over "small", "next", "metal" is not expressed ' +
          '(an ingress-nginx canary takes 2 backends): all traffic goes to "small"',
        'ingress-nginx: route "write": the route is not expressed (ingress-nginx cannot tell it from route "read" ' +
          'on the same path: method and header matches need Envoy)',
        'ingress-nginx: route "loopback": the route is not expressed (a Service cannot point to backend "local": ' +
          "127.0.0.1 is this machine's own address)",
        'ingress-nginx: route "read": header match on "x-tenant" is not expressed (every request on the path reaches the route)',
        'ingress-nginx: listeners "public", "internal" are not told apart (every Ingress serves host llm.example.com ' +
          "on the controller's ports)",
      ]),
    );
  });

  it('reports failover, retries, limits, provider keys and https backends of failover-split-limits', () => {
    const { out: golden } = ingresses('test/golden/failover-split-limits/gateway.yaml');
    expect(golden.warnings).toEqual(
      expect.arrayContaining([
        'ingress-nginx: route "chat": failover to "secondary", "cheap" is not expressed (retries and failover need Envoy)',
        'ingress-nginx: route "chat": retries are not expressed (retries and failover need Envoy)',
        'ingress-nginx: route "chat": the provider key of backend "primary" is not injected into authorization ' +
          '(ext-authz hands it to Envoy, which sets it upstream; add it by other means)',
        'ingress-nginx: route "app": limits "ip", "tenants", "route-client" are not expressed ' +
          '(request and token limits need Envoy and the rate-limit service)',
      ]),
    );
    expect(golden.warnings.find((w) => w.startsWith('ingress-nginx: backend "primary": TLS'))).toBeDefined();
  });
});
