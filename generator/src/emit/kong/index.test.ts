// The Kong target on the example, the golden cases and a gateway that exercises ai-proxy and the
// corner cases: what it writes, that it validates, what it warns about, and that no file holds a secret.
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { exampleKeys } from '../../../../test/fixtures/example-keys.js';
import { compileFile } from '../../../../test/support/compile-file.js';
import { compileGateway } from '../../compile.js';
import { parseGatewaySource } from '../../config/source.js';
import { validateKong } from '../../validate/kong.js';
import { backendServiceObjects } from '../ingress/backend-services.js';
import { emitKong, kongFiles } from './index.js';
import { ingressPath, kongHeaders, kongPath } from './match.js';
import { k8sName } from './names.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read by the assertions below
type Json = Record<string, any>;

const docs = (text: string): Json[] => parseAllDocuments(text).map((d) => d.toJS() as Json);
const fromFile = (rel: string) => emitKong(compileFile(rel).model, rel.split('/').pop()!);
const fromText = (yaml: string) =>
  emitKong(compileGateway(parseGatewaySource(yaml, 'gateway.yaml')).model, 'gateway.yaml');

/** Every warning `gen build examples/gateway.yaml` prints for Kong, in order. */
const exampleWarnings = [
  'kong: route "execute-research": routing on a body field is not expressed (Kong routes cannot read the JSON body (agent_type=research): its requests go to route "execute" (backend agents) with that route\'s auth and limits)',
  'kong: route "execute": API keys in Authorization: Bearer is not expressed (Kong\'s key-auth reads the raw key from the x-api-key or api-key header only; clients that send "Authorization: Bearer <key>" (OpenAI SDKs) must send it in x-api-key instead)',
  'kong: route "chat-personal-data": personal-data routing is not expressed (Kong cannot look for personal data in the body: its requests go to route "chat-in-house" (backend vllm) with that route\'s auth and limits)',
  'kong: route "chat-openai": routing on a body field is not expressed (Kong routes cannot read the JSON body (model=gpt-4o|gpt-4o-mini): its requests go to route "chat-in-house" (backend vllm) with that route\'s auth and limits)',
  'kong: route "chat-llama-small": routing on a body field is not expressed (Kong routes cannot read the JSON body (model=llama-3.1-8b): its requests go to route "chat-in-house" (backend vllm) with that route\'s auth and limits)',
  'kong: route "chat-in-house": retries is not expressed (Kong retries a service only after a connection failure, as often as the service\'s retries say (default 5, not 1) and without backoff)',
  'kong: route "chat-in-house": API keys in Authorization: Bearer is not expressed (Kong\'s key-auth reads the raw key from the x-api-key or api-key header only; clients that send "Authorization: Bearer <key>" (OpenAI SDKs) must send it in x-api-key instead)',
  "kong: route \"chat-in-house\": API key expiry is not expressed (Kong's key-auth credentials have no end date: delete the Secret (or credential) of hr-assistant's key 1 after 2027-06-30, support-bot's key 2 after 2026-12-31)",
  'kong: route "chat-in-house": per-client model lists is not expressed (Kong cannot read the model from the body: hr-assistant, support-bot may ask for any model here)',
  'kong: route "chat-in-house": JWKS of JWT provider "portal" is not expressed (Kong OSS\'s jwt plugin checks a token with a public key stored as a jwt credential of consumer ai-gateway-jwt-portal (credential key = the iss claim https://login.example.internal/realms/staff) and cannot fetch https://login.example.internal/realms/staff/protocol/openid-connect/certs: add the key (RS256) by hand as the README says and replace it when the provider rotates; audiences (ai-gateway) are not checked and the azp/department claims name no client or tenant)',
  'kong: route "chat-in-house": per-tenant limit "department-daily" is not expressed (Kong\'s rate-limiting counts per consumer, ip, service, header or path, never per tenant; not enforced: 5000/day per tenant, hr 2000/day, customer-service 10000/day)',
  'kong: route "chat-in-house": token quota "tenant-tokens-per-minute" is not expressed (Kong OSS counts requests, not LLM tokens; not enforced: 200000/minute per tenant)',
  'kong: route "chat-in-house": token quota "tenant-model-tokens-daily" is not expressed (Kong OSS counts requests, not LLM tokens; not enforced: 5000000/day per tenant and model)',
  'kong: route "chat-in-house": per-client limit "client-per-minute" for JWT users is not expressed (all users of JWT provider portal are one Kong consumer and share 600/minute)',
  'kong: route "chat-in-house": limit "client-per-minute" across routes is not expressed (Kong counts a route\'s rate-limiting plugin on that route alone: 600/minute on each of chat-in-house, embeddings-in-house rather than on all together)',
  'kong: route "embeddings-openai": routing on a body field is not expressed (Kong routes cannot read the JSON body (model=text-embedding-3-small): its requests go to route "embeddings-in-house" (backend vllm) with that route\'s auth and limits)',
  'kong: route "embeddings-in-house": timeout is not expressed (Kong times out per service and per read: the service of backend vllm waits 300s between two reads (the longest of its routes), not 30s)',
  'kong: route "embeddings-in-house": API keys in Authorization: Bearer is not expressed (Kong\'s key-auth reads the raw key from the x-api-key or api-key header only; clients that send "Authorization: Bearer <key>" (OpenAI SDKs) must send it in x-api-key instead)',
  "kong: route \"embeddings-in-house\": API key expiry is not expressed (Kong's key-auth credentials have no end date: delete the Secret (or credential) of hr-assistant's key 1 after 2027-06-30, support-bot's key 2 after 2026-12-31)",
  'kong: route "embeddings-in-house": per-client model lists is not expressed (Kong cannot read the model from the body: hr-assistant, support-bot may ask for any model here)',
  'kong: route "embeddings-in-house": JWKS of JWT provider "portal" is not expressed (Kong OSS\'s jwt plugin checks a token with a public key stored as a jwt credential of consumer ai-gateway-jwt-portal (credential key = the iss claim https://login.example.internal/realms/staff) and cannot fetch https://login.example.internal/realms/staff/protocol/openid-connect/certs: add the key (RS256) by hand as the README says and replace it when the provider rotates; audiences (ai-gateway) are not checked and the azp/department claims name no client or tenant)',
  'kong: route "embeddings-in-house": per-tenant limit "department-daily" is not expressed (Kong\'s rate-limiting counts per consumer, ip, service, header or path, never per tenant; not enforced: 5000/day per tenant, hr 2000/day, customer-service 10000/day)',
  'kong: route "embeddings-in-house": token quota "tenant-tokens-per-minute" is not expressed (Kong OSS counts requests, not LLM tokens; not enforced: 200000/minute per tenant)',
  'kong: route "embeddings-in-house": token quota "tenant-model-tokens-daily" is not expressed (Kong OSS counts requests, not LLM tokens; not enforced: 5000000/day per tenant and model)',
  'kong: route "embeddings-in-house": per-client limit "client-per-minute" for JWT users is not expressed (all users of JWT provider portal are one Kong consumer and share 600/minute)',
  'kong: route "embeddings-in-house": limit "client-per-minute" across routes is not expressed (Kong counts a route\'s rate-limiting plugin on that route alone: 600/minute on each of chat-in-house, embeddings-in-house rather than on all together)',
  'kong: route "models": timeout is not expressed (Kong times out per service and per read: the service of backend vllm waits 300s between two reads (the longest of its routes), not 10s)',
  'kong: route "models": token quota "tenant-tokens-per-minute" is not expressed (Kong OSS counts requests, not LLM tokens; not enforced: 200000/minute per tenant)',
  'kong: route "models": token quota "tenant-model-tokens-daily" is not expressed (Kong OSS counts requests, not LLM tokens; not enforced: 5000000/day per tenant and model)',
];

/** ai-proxy (OpenAI, Anthropic), header matches, two listeners, odd limits, Redis Cluster. */
const edgeCases = `
version: 1
gateway: { name: edge, namespace: llm }
listeners:
  - name: public
    port: 8080
    hosts: ["api.example.com", "*.example.com:8443"]
  - name: internal
    port: 9090
backends:
  - name: openai
    kind: openai-compatible
    url: https://api.openai.com
    credential: { secret: { name: openai-key, key: token } }
  - name: claude
    kind: anthropic
    url: https://api.anthropic.com
    sni: anthropic.example
    credential: { env: ANTHROPIC_KEY }
  - name: local
    kind: openai-compatible
    url: http://local:8000
  - name: lan
    url: http://10.0.0.5:8080
clients:
  - name: web
    tenant: marketing
    keys:
      - sha256: 1f3870be274f6c49b3e31a0c6728957f1f3870be274f6c49b3e31a0c6728957f
jwt_providers:
  - name: sso
    issuer: https://sso.example.com
    audiences: [edge]
    algorithms: [RS256]
    jwks: { url: https://sso.example.com/jwks }
routes:
  - name: chat
    listener: public
    match:
      path: { exact: /v1/chat/completions }
      methods: [POST]
      headers:
        - { name: x-team, prefix: "a.b" }
        - { name: x-env, regex: "prod|stage" }
        - { name: x-trace, present: true }
    backend: openai
    streaming: true
    auth: { api_key: true }
  - name: claude-chat
    listener: internal
    match:
      path: { exact: /v1/completions }
    backend: claude
    timeout: 30s
    auth: { jwt: [sso], clients: [web] }
  - name: rest
    listener: internal
    match:
      path: { regex: "/v[0-9]+/(a|b)" }
    backend: local
    auth: anonymous
  - name: lan
    listener: internal
    match:
      path: { prefix: /lan/ }
    backend: lan
    auth: anonymous
limits:
  - name: per-client
    per: client
    requests: 5/second
    overrides: { web: 10/second }
    algorithm: sliding_window
    routes: [chat]
  - name: shadowed
    per: ip
    requests: 1/second
    shadow: true
    routes: [chat]
  - name: both
    per: [ip, client]
    requests: 3/minute
    routes: [rest]
  - name: anon
    per: client
    requests: 7/hour
    routes: [rest]
services:
  redis:
    cluster: ["redis://redis-0:6379", "redis://redis-1:6379"]
`;

const inputs = [
  'examples/gateway.yaml',
  'examples/minimal.yaml',
  'test/golden/minimal/gateway.yaml',
  'test/golden/body-dispatch/gateway.yaml',
  'test/golden/failover-split-limits/gateway.yaml',
];

describe('emitKong', () => {
  it('writes the Kong files of the example', () => {
    expect([...fromFile('examples/gateway.yaml').files.keys()]).toEqual([
      'kong/backend-services.yaml',
      'kong/consumers.yaml',
      'kong/ingress.yaml',
      'kong/kong.yaml',
      'kong/plugins.yaml',
      'kong/README.md',
    ]);
  });

  for (const rel of inputs) {
    it(`output for ${rel} validates`, () => {
      expect(validateKong(fromFile(rel).files)).toEqual([]);
    });
  }
  it('output for the edge cases validates', () => {
    expect(validateKong(fromText(edgeCases).files)).toEqual([]);
  });

  it('warns about exactly what Kong cannot express for the example', () => {
    expect(fromFile('examples/gateway.yaml').warnings).toEqual(exampleWarnings);
  });

  it('lists every warning in the README: each gap once, with the routes it concerns', () => {
    for (const rel of [...inputs.slice(0, 1), ...inputs.slice(3)]) {
      const out = fromFile(rel);
      const lines = out.files.get(kongFiles.readme)!.split('\n');
      const gapLines = lines.filter((l) => l.startsWith('- **'));
      for (const w of out.warnings) {
        const [, route, feature] = /^kong: route "([^"]+)": (.+?) is not expressed \(/.exec(w)!;
        const listed = lines.some(
          (l, n) => l.startsWith(`- **${feature}**: `) && (lines[n + 1] ?? '').includes(`\`${route}\``),
        );
        expect(listed, `${rel}: ${w}`).toBe(true);
      }
      // Written once each, however many routes share it.
      expect(new Set(gapLines).size).toBe(gapLines.length);
    }
  });

  it('writes no secret value into any Kong file', () => {
    const keys = Object.values(exampleKeys);
    for (const rel of inputs) {
      for (const [file, text] of fromFile(rel).files) {
        for (const key of keys) expect(text, `${file} of ${rel}`).not.toContain(key);
        expect(text, `${file} of ${rel}`).not.toMatch(/sk-[A-Za-z0-9]/);
      }
    }
  });

  it('is deterministic', () => {
    const a = fromFile('examples/gateway.yaml');
    const b = fromFile('examples/gateway.yaml');
    expect([...a.files]).toEqual([...b.files]);
    expect(a.warnings).toEqual(b.warnings);
  });

  it('gives routes told apart by the body one Kong route: the catch-all member', () => {
    const out = fromFile('examples/gateway.yaml');
    const ingresses = docs(out.files.get(kongFiles.ingress)!);
    expect(ingresses.map((i) => i.metadata.name)).toEqual([
      'ai-gateway-execute',
      'ai-gateway-chat-in-house',
      'ai-gateway-embeddings-in-house',
      'ai-gateway-models',
    ]);
    const chat = ingresses[1];
    expect(chat.metadata.annotations).toMatchObject({
      'konghq.com/strip-path': 'false',
      'konghq.com/methods': 'POST',
      'konghq.com/response-buffering': 'false',
    });
    expect(chat.spec.rules[0].http.paths[0]).toEqual({
      path: '/v1/chat/completions',
      pathType: 'Exact',
      backend: { service: { name: 'ai-gateway-backend-vllm', port: { number: 8000 } } },
    });
  });

  it('names the Services of manifests/backend-services.yaml, with the same specs plus Kong annotations', () => {
    for (const rel of ['examples/gateway.yaml', 'test/golden/failover-split-limits/gateway.yaml']) {
      const { model } = compileFile(rel);
      const kong = docs(emitKong(model, 'gateway.yaml').files.get(kongFiles.backendServices)!);
      for (const shared of backendServiceObjects(model) as Json[]) {
        const mine = kong.find((k) => k.metadata.name === shared.metadata.name);
        if (!mine) continue;
        expect(mine.spec).toEqual(shared.spec);
        expect(mine.metadata.annotations).toMatchObject(shared.metadata.annotations);
        expect(Object.keys(mine.metadata.annotations)).toContain('konghq.com/protocol');
      }
      const ingressServices = docs(emitKong(model, 'gateway.yaml').files.get(kongFiles.ingress)!).map(
        (i) => i.spec.rules[0].http.paths[0].backend.service.name,
      );
      for (const name of ingressServices) expect(kong.map((k) => k.metadata.name)).toContain(name);
    }
    expect(
      docs(fromFile('examples/gateway.yaml').files.get(kongFiles.backendServices)!).map((d) => [
        d.metadata.name,
        d.spec.externalName,
        d.metadata.annotations['konghq.com/read-timeout'],
      ]),
    ).toEqual([
      ['ai-gateway-backend-vllm', 'vllm.models.svc.cluster.local', '300000'],
      ['ai-gateway-backend-agents', 'agents.agents.svc.cluster.local', '120000'],
    ]);
  });

  it('sends to an existing Service of the namespace as it is, and says how to annotate it', () => {
    const out = fromFile('test/golden/body-dispatch/gateway.yaml');
    expect(out.files.has(kongFiles.backendServices)).toBe(false);
    const ingress = docs(out.files.get(kongFiles.ingress)!);
    expect(ingress.map((i) => i.spec.rules[0].http.paths[0].backend.service)).toEqual([
      { name: 'vllm', port: { number: 8000 } },
      { name: 'vllm', port: { number: 8000 } },
    ]);
    expect(out.files.get(kongFiles.readme)).toContain(
      'kubectl -n ai-gateway annotate service vllm konghq.com/protocol=http konghq.com/connect-timeout=5000 konghq.com/read-timeout=60000 konghq.com/write-timeout=60000',
    );
  });

  it('maps auth to key-auth, jwt and acl, with an anonymous fallback where a route takes both', () => {
    const out = fromFile('examples/gateway.yaml');
    const plugins = new Map(docs(out.files.get(kongFiles.plugins)!).map((p) => [p.metadata.name, p]));
    expect(plugins.get('ai-gateway-key-auth')!.config).toEqual({
      key_names: ['x-api-key', 'api-key'],
      key_in_header: true,
      key_in_query: false,
      key_in_body: false,
      hide_credentials: true,
    });
    expect(plugins.get('ai-gateway-jwt-or-key-auth')!.config).toMatchObject({
      key_claim_name: 'iss',
      claims_to_verify: ['exp'],
      anonymous: 'ai-gateway-anonymous',
    });
    expect(plugins.get('ai-gateway-execute-acl')!.config).toEqual({ allow: ['agents-service'] });
    expect(plugins.get('ai-gateway-chat-in-house-acl')!.config).toEqual({
      allow: ['agents-service', 'hr-assistant', 'support-bot', 'jwt:portal'],
    });
    expect(plugins.get('ai-gateway-limit-execute-per-ip')!.config).toEqual({
      limit_by: 'ip',
      minute: 10,
      policy: 'redis',
      redis: { host: 'redis.ai-gateway.svc.cluster.local', port: 6379, password: '{vault://env/aigw-redis-password}' },
      fault_tolerant: true,
    });
    const globals = docs(out.files.get(kongFiles.plugins)!).filter((p) => p.kind === 'KongClusterPlugin');
    expect(globals.map((p) => [p.plugin, p.metadata.labels.global])).toEqual([
      ['correlation-id', 'true'],
      ['prometheus', 'true'],
    ]);
  });

  it('names credential Secrets and ACL groups, never values', () => {
    const out = fromFile('examples/gateway.yaml');
    const consumers = docs(out.files.get(kongFiles.consumers)!);
    expect(consumers.find((c) => c.username === 'support-bot')).toMatchObject({
      kind: 'KongConsumer',
      credentials: [
        'ai-gateway-support-bot-key-1',
        'ai-gateway-support-bot-key-2',
        'ai-gateway-support-bot-acl-client',
        'ai-gateway-support-bot-acl-tenant',
      ],
    });
    const deck = parse(out.files.get(kongFiles.deck)!) as Json;
    expect(deck.consumers.find((c: Json) => c.username === 'hr-assistant')).toEqual({
      username: 'hr-assistant',
      acls: [{ group: 'hr-assistant' }, { group: 'tenant:hr' }],
    });
    const readme = out.files.get(kongFiles.readme)!;
    expect(readme).toContain(
      'kubectl -n ai-gateway create secret generic ai-gateway-support-bot-key-2 --from-literal=kongCredType=key-auth --from-literal=key=',
    );
    expect(readme).toContain(
      'kubectl -n ai-gateway label secret ai-gateway-support-bot-key-2 konghq.com/credential=key-auth',
    );
    expect(readme).toContain('**plaintext** API key');
  });

  it('writes one decK file with services, routes, consumers and global plugins', () => {
    const deck = parse(fromFile('examples/gateway.yaml').files.get(kongFiles.deck)!) as Json;
    expect(deck._format_version).toBe('3.0');
    expect(deck.services.map((s: Json) => [s.name, s.url])).toEqual([
      ['ai-gateway-backend-openai', 'https://api.openai.com:443'],
      ['ai-gateway-backend-vllm', 'http://vllm.models.svc.cluster.local:8000'],
      ['ai-gateway-backend-vllm-next', 'http://vllm-next.models.svc.cluster.local:8000'],
      ['ai-gateway-backend-vllm-small', 'http://vllm-small.models.svc.cluster.local:8000'],
      ['ai-gateway-backend-agents', 'http://agents.agents.svc.cluster.local:8080'],
      ['ai-gateway-backend-research-agents', 'http://research-agents.agents.svc.cluster.local:8080'],
    ]);
    const execute = deck.services[4].routes[0];
    expect(execute).toMatchObject({
      name: 'ai-gateway-execute',
      paths: ['~/execute$'],
      methods: ['POST'],
      hosts: ['llm.example.internal', 'llm.example.internal:8080'],
      strip_path: false,
    });
    expect(execute.plugins.map((p: Json) => p.name)).toEqual([
      'key-auth',
      'acl',
      'rate-limiting',
      'request-transformer',
    ]);
    expect(deck.plugins.map((p: Json) => p.name)).toEqual(['correlation-id', 'prometheus']);
  });

  it('injects provider keys with ai-proxy and a vault reference where it fits, and says where it does not', () => {
    const out = fromText(edgeCases);
    const plugins = new Map(docs(out.files.get(kongFiles.plugins)!).map((p) => [p.metadata.name, p]));
    expect(plugins.get('edge-chat-ai-proxy')!.config).toEqual({
      route_type: 'llm/v1/chat',
      model: { provider: 'openai', options: { upstream_url: 'https://api.openai.com:443/v1/chat/completions' } },
      auth: { header_name: 'authorization', header_value: '{vault://env/aigw-credential-openai}' },
    });
    expect(out.warnings).toContain(
      'kong: route "claude-chat": provider key injection is not expressed (ai-proxy only fits an exact /v1/chat/completions or /v1/completions route to an openai-compatible backend (/v1/chat/completions to an anthropic one), and request-transformer cannot take a vault reference (the key would be plain text in its config): requests reach claude without its key; split the route per API operation, or let claude accept requests without it)',
    );
    const readme = out.files.get(kongFiles.readme)!;
    expect(readme).toContain('| `AIGW_CREDENTIAL_OPENAI` |');
    expect(readme).toContain('value: "Bearer $(AIGW_CREDENTIAL_OPENAI_RAW)"');
  });

  it('points an ExternalName Service at an IP address, as manifests/backend-services.yaml does', () => {
    const services = docs(fromText(edgeCases).files.get(kongFiles.backendServices)!);
    expect(services.map((d) => [d.kind, d.metadata.name, d.spec.externalName])).toEqual([
      ['Service', 'edge-backend-openai', 'api.openai.com'],
      ['Service', 'edge-backend-claude', 'api.anthropic.com'],
      ['Service', 'edge-backend-lan', '10.0.0.5'],
    ]);
  });

  it('asks Anthropic for chat with its API version', () => {
    const out = fromText(
      edgeCases.replace('path: { exact: /v1/completions }', 'path: { exact: /v1/chat/completions }'),
    );
    const proxy = docs(out.files.get(kongFiles.plugins)!).find((p) => p.metadata.name === 'edge-claude-chat-ai-proxy')!;
    expect(proxy.config).toEqual({
      route_type: 'llm/v1/chat',
      model: {
        provider: 'anthropic',
        options: { upstream_url: 'https://api.anthropic.com:443/v1/messages', anthropic_version: '2023-06-01' },
      },
      auth: { header_name: 'x-api-key', header_value: '{vault://env/aigw-credential-claude}' },
    });
    expect(validateKong(out.files)).toEqual([]);
  });

  it('warns per route about limits Kong counts differently or not at all', () => {
    const w = fromText(edgeCases).warnings.filter((x) => x.includes('limit'));
    expect(w).toEqual([
      'kong: route "chat": shadow limit "shadowed" is not expressed (Kong has no observe-only mode and enforcing it would refuse requests; not enforced: 1/second per ip)',
      'kong: route "chat": overrides of limit "per-client" is not expressed (Kong applies 5/second to everybody, not web 10/second; add a consumer-scoped rate-limiting plugin by hand)',
      'kong: route "chat": algorithm of limit "per-client" is not expressed (Kong\'s rate-limiting counts fixed windows, not sliding_window)',
      'kong: route "chat": Redis Cluster for limit "per-client" is not expressed (Kong OSS\'s rate-limiting cannot use Redis Cluster: it counts with policy local, each Kong node alone)',
      'kong: route "rest": limit "both" is not expressed (Kong\'s limit_by takes one key, not ip and client; not enforced: 3/minute per ip and client)',
      'kong: route "rest": per-client limit "anon" on an anonymous route is not expressed (Kong counts per IP address when there is no consumer)',
      'kong: route "rest": Redis Cluster for limit "anon" is not expressed (Kong OSS\'s rate-limiting cannot use Redis Cluster: it counts with policy local, each Kong node alone)',
    ]);
  });
});

describe('Kong matches', () => {
  it('turns exact and regex paths into anchored Kong regex paths', () => {
    expect(kongPath({ kind: 'prefix', value: '/v1/' })).toBe('/v1/');
    expect(kongPath({ kind: 'exact', value: '/v1/a.b' })).toBe('~/v1/a\\.b$');
    expect(kongPath({ kind: 'regex', value: '^/app/[a-z]+$' })).toBe('~/app/[a-z]+$');
    expect(kongPath({ kind: 'regex', value: '/v[0-9]+/(a|b)' })).toBe('~/v[0-9]+/(a|b)$');
    expect(kongPath({ kind: 'regex', value: '/a|/b' })).toBe('~(?:/a|/b)$');
    expect(kongPath({ kind: 'regex', value: '/cost\\$' })).toBe('~/cost\\$$');
    expect(ingressPath({ kind: 'regex', value: '^/app/[a-z]+$' })).toEqual({
      path: '/~/app/[a-z]+$',
      pathType: 'ImplementationSpecific',
    });
  });

  it('matches headers by value or regex, and cannot say that one is absent', () => {
    const route = compileGateway(parseGatewaySource(edgeCases, 'gateway.yaml')).model.routes[0];
    expect(kongHeaders(route)).toEqual({
      headers: { 'x-team': ['~*^a\\.b'], 'x-env': ['~*^(?:prod|stage)$'], 'x-trace': ['~*.*'] },
      gaps: [],
    });
    const golden = compileFile('test/golden/failover-split-limits/gateway.yaml').model.routes.find(
      (r) => r.name === 'app',
    )!;
    expect(kongHeaders(golden).gaps.map((g) => g.feature)).toEqual(['header-absence match (x-canary)']);
  });

  it('keeps Kubernetes names within 63 characters', () => {
    expect(k8sName('gw', 'route')).toBe('gw-route');
    const long = k8sName('a'.repeat(40), 'backend', 'b'.repeat(40));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^a+-backend-b+-[0-9a-f]{8}$/);
  });
});
