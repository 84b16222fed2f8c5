import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checker, PolicyRuntime } from '../../../ext-authz/src/check.js';
import { keyDigest } from '../../../ext-authz/src/identity/api-keys.js';
import { parsePolicy } from '../../../ext-authz/src/policy.js';
import { UpstreamCredentials } from '../../../ext-authz/src/upstream-credentials.js';
import { parseConfigFile } from '../../../ratelimit-service/src/config/load.js';
import { exampleKeys } from '../../../test/fixtures/example-keys.js';
import { compileGateway, outputFiles } from '../compile.js';
import { loadGatewaySource } from '../config/source.js';
import type { GatewayModel } from '../model/types.js';
import { explainCommand, formatExplanation } from './explain.js';
import {
  domainMatches,
  envoyRoutes,
  firstMatch,
  headerMatches,
  normalisePath,
  type RouteRequest,
  routePolicy,
} from './explain-envoy.js';
import { parseRequestLine, RequestSyntaxError } from './explain-request.js';
import { type ExplainContext, type Explanation, explainRequest } from './explain-simulate.js';

const root = path.resolve(import.meta.dirname, '../../..');
const example = path.join(root, 'examples/gateway.yaml');
const NOW = Date.UTC(2026, 5, 1);
let ctx: ExplainContext;
let files: Map<string, string>;
let tmp: string;

const k = exampleKeys;

beforeAll(() => {
  const compiled = compileGateway(loadGatewaySource(example));
  files = compiled.files;
  ctx = {
    model: compiled.model,
    ratelimit: parseConfigFile(outputFiles.ratelimit, files.get(outputFiles.ratelimit)!),
    nowMs: NOW,
  };
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-explain-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function explain(line: string, c: ExplainContext = ctx): Explanation {
  return explainRequest(c, parseRequestLine(line));
}
/** The value of the first text line with this key. */
function value(e: Explanation, key: string): string | undefined {
  return e.lines.find(([k]) => k === key)?.[1];
}
function values(e: Explanation, key: string): string[] {
  return e.lines.filter(([k]) => k === key).map(([, v]) => v);
}

async function run(args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await explainCommand(args, (l) => out.push(l));
  return { code, out };
}

describe('gen explain on examples/gateway.yaml', () => {
  it('the /execute agent: route execute, 10/minute per client IP', () => {
    const e = explain(`POST /execute key=${k['agents-service']} ip=10.1.2.3`);
    expect(value(e, 'route')).toMatch(/^execute \(routes\[1\]/);
    expect(value(e, 'dispatch')).toBe('agent_type=(absent) → execute');
    expect(value(e, 'identity')).toMatch(/^client agents-service, tenant platform/);
    expect(values(e, 'limit')).toEqual(['execute-per-ip: 10/minute per ip=10.1.2.3']);
    expect(e.verdict.text).toBe('would be: allowed → backend_agents');
  });

  it('the research agent is chosen by body:agent_type', () => {
    const e = explain(`POST /execute key=${k['agents-service']} body:agent_type=research`);
    expect(e.json.route).toBe('execute-research');
    expect(values(e, 'limit')).toEqual(['execute-per-ip: 10/minute per ip=<client ip>']);
    expect(e.verdict.text).toBe('would be: allowed → backend_research-agents');
  });

  it('hr-assistant may not use gpt-4o: the 403 ext-authz gives', () => {
    const e = explain(`POST /v1/chat/completions model=gpt-4o key=${k['hr-assistant']}`);
    expect(value(e, 'route')).toMatch(/^chat-openai /);
    expect(e.verdict).toMatchObject({ outcome: 'denied', status: 403 });
    expect(e.verdict.text).toBe('would be: denied 403 model "gpt-4o" is not allowed for client "hr-assistant"');
    expect(value(e, 'limit')).toBeUndefined();
  });

  it('support-bot with gpt-4o: chat-openai failing over to vllm-small', () => {
    const e = explain(
      `POST /v1/chat/completions model=gpt-4o key=${k['support-bot']} host=llm.example.internal tokens=1200`,
    );
    expect(e.json).toMatchObject({
      listener: 'public',
      route: 'chat-openai',
      policy: 'chat-openai',
      identity: { kind: 'api_key', client: 'support-bot', tenant: 'customer-service' },
      backends: {
        kind: 'single',
        cluster: 'failover_openai_vllm-small',
        primary: 'backend_openai',
        failover: ['backend_vllm-small'],
      },
    });
    expect(values(e, 'limit')).toEqual([
      'department-daily: 10000/day per tenant=customer-service (override for customer-service)',
      'client-per-minute: 600/minute per client=support-bot',
    ]);
    expect(values(e, 'token limit')).toEqual([
      'tenant-tokens-per-minute: 200000 tokens/minute per tenant=customer-service; charges 1200 tokens',
      'tenant-model-tokens-daily: 5000000 tokens/day per tenant=customer-service model=gpt-4o [shadow: counted, never enforced]; charges 1200 tokens',
    ]);
    expect(value(e, 'retries')).toBe(
      '2 on 429, 5xx, reset, connect-failure; backoff 250ms..2s; each retry goes to the next backend of the chain',
    );
    expect(e.verdict.text).toBe('would be: allowed → backend_openai (failover: backend_vllm-small)');
  });

  it('personal data stays in-house: chat-personal-data', () => {
    const e = explain(`POST /v1/chat/completions model=gpt-4o personal-data key=${k['support-bot']}`);
    expect(value(e, 'dispatch')).toBe('model="gpt-4o", personal data yes → chat-personal-data');
    expect(e.json.route).toBe('chat-personal-data');
    expect(e.verdict.text).toBe('would be: allowed → backend_vllm');
  });

  it('GET /v1/models needs no credential', () => {
    const e = explain('GET /v1/models');
    expect(e.json.route).toBe('models');
    expect(value(e, 'identity')).toBe('anonymous (the route reads no credential)');
    expect(value(e, 'limits')).toBe('none');
    expect(value(e, 'timeout')).toBe('10s');
    expect(e.verdict.text).toBe('would be: allowed → backend_vllm');
  });

  it('department-daily: the hr override of 2000/day applies to hr-assistant', () => {
    const e = explain(`POST /v1/chat/completions model=gpt-4o-mini key=${k['hr-assistant']}`);
    expect(values(e, 'limit')[0]).toBe('department-daily: 2000/day per tenant=hr (override for hr)');
    expect(e.json.limits).toContainEqual({
      name: 'department-daily',
      kind: 'requests',
      per: { tenant: 'hr' },
      amount: 2000,
      unit: 'day',
      override: 'hr',
      shadow: false,
    });
    expect(e.verdict.text).toBe('would be: allowed → backend_openai (failover: backend_vllm-small)');
  });

  it('the weighted split of llama-3.1-8b', () => {
    const e = explain(`POST /v1/chat/completions model=llama-3.1-8b key=${k['support-bot']}`);
    expect(e.verdict.text).toBe('would be: allowed → backend_vllm-small 90%, backend_vllm-next 10%');
  });

  it('unknown and expired keys, missing credentials, the wrong client', () => {
    expect(explain('POST /v1/chat/completions model=gpt-4o key=aigw_nope').verdict.text).toBe(
      'would be: denied 401 invalid API key',
    );
    const e = explain('POST /v1/chat/completions model=gpt-4o key=aigw_nope');
    expect(value(e, 'identity')).toMatch(/^unknown key \(sha256:[0-9a-f]{8}… is no client's key\)$/);
    const old = `POST /v1/chat/completions model=gpt-4o key=${k['support-bot-old']}`;
    expect(explain(old).verdict.outcome).toBe('allowed');
    const later = explain(old, { ...ctx, nowMs: Date.UTC(2027, 0, 1) });
    expect(value(later, 'identity')).toMatch(
      /^client support-bot, tenant customer-service: key .* expired 2026-12-31$/,
    );
    expect(later.verdict.text).toBe('would be: denied 401 API key expired');
    expect(explain('POST /v1/chat/completions model=gpt-4o').verdict.text).toBe(
      'would be: denied 401 missing credentials: send an API key or a token',
    );
    expect(explain(`POST /execute key=${k['support-bot']}`).verdict.text).toBe(
      'would be: denied 403 client "support-bot" may not use this route',
    );
    expect(explain(`POST /v1/embeddings key=${k['hr-assistant']}`).verdict.text).toBe(
      'would be: denied 400 the JSON body needs a "model" field',
    );
    // Credentials in headers count as ext-authz reads them, and are never shown.
    const viaHeader = explain(`POST /execute "header:x-api-key=${k['agents-service']}"`);
    expect(viaHeader.verdict.outcome).toBe('allowed');
    expect(value(viaHeader, 'request')).toBe('POST /execute header:x-api-key=…');
    expect(explain(`POST /execute "header:authorization=Basic abc"`).verdict.text).toBe(
      'would be: denied 401 the authorization header must be "Bearer <key or token>"',
    );
    expect(explain(`POST /execute key=${k['agents-service']} header:api-key=x`).verdict.text).toBe(
      'would be: denied 401 several credentials: send exactly one',
    );
  });

  it('a JWT: names the providers and reads (without verifying) its claims', () => {
    const e = explain('POST /v1/chat/completions model=gpt-4o jwt');
    expect(value(e, 'jwt provider')).toMatch(/^portal: issuer https:\/\/login\.example\.internal\/realms\/staff/);
    expect(values(e, 'limit')[0]).toBe(
      'department-daily: 5000/day per tenant=<token "department" claim>; overrides: hr 2000/day, customer-service 10000/day',
    );
    expect(e.verdict.text).toBe(
      'would be: allowed if the JWT verifies (portal) → backend_openai (failover: backend_vllm-small)',
    );
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${b64({ alg: 'RS256' })}.${b64({ iss: 'https://login.example.internal/realms/staff', azp: 'web-portal', department: 'hr' })}.sig`;
    const t = explain(`POST /v1/chat/completions model=gpt-4o jwt=${token}`);
    expect(value(t, 'identity')).toMatch(/^client web-portal, tenant hr from a portal JWT \(claims read/);
    expect(values(t, 'limit')[0]).toBe('department-daily: 2000/day per tenant=hr (override for hr)');
    const wrong = `${b64({ alg: 'RS256' })}.${b64({ iss: 'https://evil', azp: 'x' })}.sig`;
    expect(explain(`POST /v1/chat/completions model=gpt-4o jwt=${wrong}`).verdict.text).toBe(
      'would be: denied 401 wrong issuer',
    );
    // /execute takes API keys only.
    expect(explain(`POST /execute key=${token}`).verdict.text).toBe('would be: denied 401 invalid API key');
  });

  it('404 when no route or no virtual host matches', () => {
    expect(explain('POST /nowhere').verdict.text).toBe('would be: 404 no route');
    expect(explain('DELETE /v1/models').verdict.text).toBe('would be: 404 no route');
    expect(explain('GET /v1/models host=elsewhere.example').verdict.text).toBe('would be: 404 no route');
    expect(explain('GET /v1/models host=LLM.example.internal:8080').verdict.outcome).toBe('allowed');
    expect(explain('GET /v1/models header:x_team=a').verdict.text).toBe(
      'would be: denied 400 by Envoy: header name "x_team" has an underscore',
    );
    // Envoy normalises the path first.
    expect(explain('GET //v1/./models?x=1').json.route).toBe('models');
  });

  it('agrees with ext-authz itself on every decision ext-authz makes', async () => {
    const policy = parsePolicy(files.get(outputFiles.policy)!, 'policy.yaml');
    policy.backends.find((b) => b.name === 'openai')!.credential = { env: 'K', header: 'authorization', prefix: '' };
    const runtime = new PolicyRuntime(policy, 262_144);
    const checker = new Checker(
      () => runtime,
      new UpstreamCredentials({ K: 'sk' }),
      () => NOW,
    );
    const cases = [
      `POST /execute key=${k['agents-service']}`,
      `POST /execute key=${k['agents-service']} body:agent_type=research`,
      `POST /execute key=${k['hr-assistant']}`,
      `POST /v1/chat/completions model=gpt-4o key=${k['hr-assistant']}`,
      `POST /v1/chat/completions model=gpt-4o-mini key=${k['hr-assistant']}`,
      `POST /v1/chat/completions model=llama-3.1-70b key=${k['hr-assistant']}`,
      `POST /v1/chat/completions model=gpt-4o key=${k['support-bot']}`,
      `POST /v1/chat/completions model=gpt-4o personal-data=email key=${k['support-bot']}`,
      `POST /v1/chat/completions model=mistral key=${k['support-bot']}`,
      `POST /v1/chat/completions model=gpt-4o key=${k['support-bot-old']}`,
      'POST /v1/chat/completions model=gpt-4o key=aigw_unknown',
      'POST /v1/chat/completions model=gpt-4o',
      `POST /v1/embeddings model=text-embedding-3-small key=${k['hr-assistant']}`,
      `POST /v1/embeddings model=bge-m3 key=${k['hr-assistant']}`,
      `POST /v1/embeddings key=${k['support-bot']}`,
      'GET /v1/models',
    ];
    for (const line of cases) {
      const req = parseRequestLine(line);
      const e = explainRequest(ctx, req);
      const rr: RouteRequest = { method: req.method, path: normalisePath(req.path), host: '', headers: new Map() };
      const first = firstMatch(envoyRoutes(ctx.model, 'public'), rr)!;
      const body = req.hasBody
        ? {
            ...req.body,
            messages: [{ role: 'user', content: req.personalData ? 'mail alice@example.com' : 'hello' }],
          }
        : undefined;
      const d = await checker.check({
        method: req.method,
        path: req.path,
        host: 'llm.example.internal',
        headers: new Map(req.key ? [['authorization', [`Bearer ${req.key}`]]] : []),
        body: body ? Buffer.from(JSON.stringify(body)) : undefined,
        policy: routePolicy(first),
        requestId: 'r',
        sourceIp: '10.0.0.1',
      });
      const got = { allow: e.verdict.outcome === 'allowed', status: e.verdict.status };
      expect({ line, ...got }).toEqual({ line, allow: d.allow, status: d.status });
      if (!d.allow) expect(e.verdict.outcome === 'denied' && e.verdict.reason).toBe(d.reason);
      else expect(e.json.route).toBe(d.route);
    }
    runtime.close();
  });
});

describe('gen explain on other gateways', () => {
  let c: ExplainContext;
  let model: GatewayModel;
  beforeAll(() => {
    const file = path.join(tmp, 'g.yaml');
    fs.writeFileSync(
      file,
      `version: 1
listeners:
  - { name: a, port: 8080, hosts: ["a.example"] }
  - { name: b, port: 8081, hosts: ["*.b.example"] }
backends:
  - { name: one, kind: http, url: "http://one:80" }
  - { name: two, kind: http, url: "http://two:80" }
clients:
  - name: c1
    tenant: t1
    keys: [{ sha256: ${keyDigest('aigw_test_c1')} }]
routes:
  - name: support
    listener: a
    match: { path: { prefix: /api/ }, headers: [{ name: x-team, exact: support }] }
    backend: two
    retries: { attempts: 3, on: [5xx], per_try_timeout: 2s }
    auth: { api_key: true }
  - name: api
    listener: a
    match: { path: { prefix: /api/ } }
    backend: one
    auth: { api_key: true, tenants: [t1] }
  - name: other
    listener: b
    match: { path: { regex: "/x/[0-9]+" } }
    backend: one
    auth: anonymous
limits:
  - name: per-route-client
    per: [route, client]
    requests: 5/second
  - name: only-c1
    per: client
    requests: 100/hour
    only_overrides: true
    overrides: { c1: 7/hour }
`,
    );
    const compiled = compileGateway(loadGatewaySource(file));
    model = compiled.model;
    c = {
      model,
      ratelimit: parseConfigFile('x', compiled.files.get(outputFiles.ratelimit)!),
      nowMs: NOW,
    };
  });

  it('picks the listener by host, matches headers, and counts per route and client', () => {
    const e = explain('GET /api/v1 host=a.example header:x-team=support key=aigw_test_c1', c);
    expect(e.json).toMatchObject({ listener: 'a', route: 'support' });
    expect(values(e, 'limit')).toEqual([
      'per-route-client: 5/second per route=support client=c1',
      'only-c1: 7/hour per client=c1 (override for c1)',
    ]);
    expect(value(e, 'retries')).toBe('3 on 5xx; backoff 250ms..2s; 2s per try');
    expect(e.verdict.text).toBe('would be: allowed → backend_two');
    expect(explain('GET /api/v1 host=a.example header:x-team=sales key=aigw_test_c1', c).json.route).toBe('api');
    const b = explain('GET /x/42 host=q.b.example', c);
    expect(b.json).toMatchObject({ listener: 'b', route: 'other' });
    expect(values(b, 'limit')).toEqual([
      'per-route-client: 5/second per route=other client=unknown',
      'only-c1: no limit for client=unknown',
    ]);
    expect(explain('GET /x/4a host=q.b.example', c).verdict.text).toBe('would be: 404 no route');
    expect(explain('GET /x/1 host=b.example', c).verdict.text).toBe('would be: 404 no route');
  });

  it('asks for a host when several listeners could take the request', () => {
    expect(() => explain('GET /api/v1', c)).toThrow(/there are 2 listeners \(a, b\): add host= or listener=/);
    expect(explain('GET /x/1 listener=b', c).json.route).toBe('other');
  });
});

describe('pieces', () => {
  it('parses request lines', () => {
    const r = parseRequestLine(
      'POST /v1/x?y=1 model=m key=aigw_1 header:X-Team=a header:x-team=b ip=1.2.3.4 body:agent_type=r "header:x-note=a b" personal-data=email,card tokens=12',
    );
    expect(r).toMatchObject({
      method: 'POST',
      path: '/v1/x?y=1',
      key: 'aigw_1',
      ip: '1.2.3.4',
      body: { model: 'm', agent_type: 'r' },
      personalData: ['email', 'card'],
      tokens: 12,
      hasBody: true,
    });
    expect([...r.headers]).toEqual([
      ['x-team', 'a,b'],
      ['x-note', 'a b'],
    ]);
    expect(parseRequestLine('GET /v1/models').hasBody).toBe(false);
    expect(parseRequestLine('POST /execute no-body').hasBody).toBe(false);
    for (const bad of ['POST', 'POST v1', 'POST /a tokens=x', 'POST /a colour=red', 'POST /a key=1 key=2', 'GET /a "x'])
      expect(() => parseRequestLine(bad), bad).toThrow(RequestSyntaxError);
  });

  it('Envoy domain, path and header matching', () => {
    expect(domainMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(domainMatches('*.example.com', '.example.com')).toBe(false);
    expect(domainMatches('api.*', 'api.x')).toBe(true);
    expect(domainMatches('Host.Example', 'host.example')).toBe(true);
    expect(domainMatches('host.example', 'host.example:8080')).toBe(false);
    expect(normalisePath('/a//b/../c/./d?q=/x//y')).toEqual({ path: '/a/c/d', full: '/a/c/d?q=/x//y' });
    expect(normalisePath('/v1/%6Dodels%2F')).toEqual({ path: '/v1/models%2F', full: '/v1/models%2F' });
    const req = (h: Record<string, string>): RouteRequest => ({
      method: 'POST',
      path: normalisePath('/'),
      host: 'h',
      headers: new Map(Object.entries(h)),
    });
    const absentOk = { name: 'x-aigw-dispatch', present_match: true, invert_match: true };
    expect(headerMatches(absentOk, req({}))).toBe(true);
    expect(headerMatches(absentOk, req({ 'x-aigw-dispatch': 'r' }))).toBe(false);
    const inverted = { name: 'x', string_match: { exact: 'a' }, invert_match: true };
    expect(headerMatches(inverted, req({ x: 'b' }))).toBe(true);
    expect(headerMatches(inverted, req({}))).toBe(false); // an absent header never matches a string
    expect(headerMatches({ name: ':method', string_match: { safe_regex: { regex: '^(?:GET|POST)$' } } }, req({}))).toBe(
      true,
    );
  });
});

describe('the command', () => {
  it('prints aligned lines and the verdict, or one JSON object', async () => {
    const text = await run([
      example,
      '--request',
      `POST /v1/chat/completions model=gpt-4o key=${k['support-bot']} ip=10.1.2.3`,
      '--now',
      '2026-06-01',
    ]);
    expect(text.code).toBe(0);
    expect(text.out.at(-1)).toBe('would be: allowed → backend_openai (failover: backend_vllm-small)');
    expect(text.out.at(-2)).toBe('');
    const body = text.out.slice(0, -2);
    const col = body[0].indexOf('POST');
    for (const l of body) expect(l.slice(col - 1, col), l).toBe(' ');
    expect(body).toContain(`route:${' '.repeat(col - 6)}chat-openai (routes[3], ${example}:131)`);
    expect(text.out.join('\n')).not.toContain(k['support-bot']);

    const json = await run([example, '--format', 'json', '--request', `POST /execute key=${k['agents-service']}`]);
    expect(json.code).toBe(0);
    expect(json.out).toHaveLength(1);
    const o = JSON.parse(json.out[0]);
    expect(o).toMatchObject({
      listener: 'public',
      envoy_routes: ['dispatch_execute-research', 'execute'],
      route: 'execute',
      identity: { kind: 'api_key', client: 'agents-service', tenant: 'platform' },
      limits: [{ name: 'execute-per-ip', per: { ip: '<client ip>' }, amount: 10, unit: 'minute', shadow: false }],
      backends: { kind: 'single', primary: 'backend_agents', failover: [] },
      verdict: { outcome: 'allowed', status: 200, text: 'would be: allowed → backend_agents' },
    });
  });

  it('usage errors exit 2, a bad gateway file 1', async () => {
    expect((await run([example])).code).toBe(2);
    const bad = await run([example, '--request', 'POST /x colour=red']);
    expect(bad.code).toBe(2);
    expect(bad.out[0]).toMatch(/^gen explain: --request: unknown request part "colour=red"/);
    expect((await run([example, '--request', 'GET /', '--format', 'xml'])).code).toBe(2);
    expect((await run([example, '--request', 'GET /', '--now', 'soon'])).code).toBe(2);
    const missing = await run([path.join(tmp, 'nope.yaml'), '--request', 'GET /']);
    expect(missing.code).toBe(1);
    expect(missing.out[0]).toMatch(/nope\.yaml: cannot read file: ENOENT/);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.out[0]).toMatch(/^usage: gen explain/);
  });
});

void formatExplanation;
