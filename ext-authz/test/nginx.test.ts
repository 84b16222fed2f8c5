// ext-authz behind a real nginx: client → nginx → auth_request to the HTTP /check → the identity
// headers copied into the upstream request → an upstream that records what it receives.
// The nginx configuration built here is the one docs/nginx.md shows.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exampleKeys } from '../../test/fixtures/example-keys.js';
import { compileFile } from '../../test/support/compile-file.js';
import { type Nginx, nginxAvailable, nginxSkipReason, startNginx } from '../../test/support/nginx.js';
import { type ServiceProcess, startService } from '../../test/support/service-process.js';

interface PolicyHeaders {
  identity: { client: string; tenant: string; model: string; route: string };
  reserved: string[];
  credentials: string[];
}

/** `x-aigw-client` → `aigw_client` (nginx variable names: lower case, `-` → `_`). */
const varName = (header: string) => header.toLowerCase().replace(/^x-/, '').replace(/-/g, '_');

/**
 * The `http { }` body: one internal auth location shared by the routes, each route naming its
 * policy in $aigw_policy. Identity headers come from the auth response; every other reserved
 * header and every client credential is cleared before the upstream sees the request.
 */
function gatewayHttpConf(o: { port: number; authzPort: number; upstreamPort: number; h: PolicyHeaders }): string {
  const fromAuth = Object.values(o.h.identity);
  const authSet = fromAuth.map((h) => `auth_request_set $${varName(h)} $upstream_http_${h.replace(/-/g, '_')};`);
  const upstreamHeaders = [
    ...fromAuth.map((h) => `proxy_set_header ${h} $${varName(h)};`),
    ...o.h.reserved.filter((h) => !fromAuth.includes(h)).map((h) => `proxy_set_header ${h} "";`),
    ...o.h.credentials.map((h) => `proxy_set_header ${h} "";`),
    'proxy_set_header x-aigw-policy "";',
  ];
  const route = (location: string, policy: string) => `
    location = ${location} {
      set $aigw_policy ${policy};
      auth_request /_aigw_authz;
      ${authSet.join('\n      ')}
      proxy_set_header Host $host;
      proxy_set_header X-Request-Id $request_id;
      ${upstreamHeaders.join('\n      ')}
      proxy_pass http://aigw_backend;
    }`;
  return `
  upstream aigw_ext_authz { server 127.0.0.1:${o.authzPort}; }
  upstream aigw_backend { server 127.0.0.1:${o.upstreamPort}; }

  server {
    listen 127.0.0.1:${o.port};

    location = /_aigw_authz {
      internal;
      proxy_pass http://aigw_ext_authz/check?policy=$aigw_policy;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Request-Id $request_id;
      proxy_set_header x-aigw-policy "";
      proxy_connect_timeout 1s;
      proxy_read_timeout 2s;
    }
${route('/execute', 'execute')}
${route('/v1/models', 'models')}
${route('/v1/chat/completions', 'dispatch/chat-personal-data')}

    location / {
      return 404;
    }
  }
`;
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe.skipIf(!nginxAvailable())(`ext-authz behind nginx auth_request ${nginxSkipReason()}`.trim(), () => {
  let dir: string;
  let authz: ServiceProcess;
  let nginx: Nginx;
  let upstream: http.Server;
  let conf = '';
  const seen: Seen[] = [];
  let headers: PolicyHeaders;

  const url = (p: string) => `http://127.0.0.1:${nginx.port}${p}`;
  /** Runs f and returns what the upstream received meanwhile. */
  const upstreamSaw = async <T>(f: () => Promise<T>): Promise<[T, Seen[]]> => {
    const before = seen.length;
    const r = await f();
    return [r, seen.slice(before)];
  };
  const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
  const executeBody = JSON.stringify({ agent_type: 'coder', input: 'list the open tickets' });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authz-nginx-'));
    const policyText = compileFile('examples/gateway.yaml').files.get('ext-authz/policy.yaml')!;
    headers = (parse(policyText) as { headers: PolicyHeaders }).headers;
    const policyFile = path.join(dir, 'policy.yaml');
    fs.writeFileSync(policyFile, policyText);

    upstream = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"upstream":true}\n');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamPort = (upstream.address() as AddressInfo).port;

    authz = await startService('ext-authz', ['--config', policyFile]);
    nginx = await startNginx(({ port }) => {
      conf = gatewayHttpConf({ port, authzPort: authz.httpPort, upstreamPort, h: headers });
      return { http: conf };
    });
  }, 30_000);

  afterAll(async () => {
    await nginx?.stop();
    await authz?.stop();
    await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('clears every reserved header and credential header the policy names', () => {
    for (const h of [...headers.reserved, ...headers.credentials]) expect(conf).toContain(`proxy_set_header ${h} `);
    expect(conf).toContain('auth_request_set $aigw_client $upstream_http_x_aigw_client;');
  });

  it('a valid key on an API-key route: 200, the upstream gets the identity and not the key', async () => {
    const key = exampleKeys['agents-service'];
    for (const credential of [bearer(key), { 'x-api-key': key }]) {
      const [res, got] = await upstreamSaw(() =>
        fetch(url('/execute'), {
          method: 'POST',
          headers: { ...credential, 'content-type': 'application/json' },
          body: executeBody,
        }),
      );
      expect(res.status, nginx.errorLog()).toBe(200);
      expect(await res.json()).toEqual({ upstream: true });
      expect(got).toHaveLength(1);
      const u = got[0];
      expect(u.method).toBe('POST');
      expect(u.body).toBe(executeBody); // nginx keeps the body for the upstream; only the check goes without
      expect(u.headers['x-aigw-client']).toBe('agents-service');
      expect(u.headers['x-aigw-tenant']).toBe('platform');
      expect(u.headers['x-aigw-route']).toBe('execute');
      expect(u.headers['x-aigw-model']).toBeUndefined();
      expect(u.headers.authorization).toBeUndefined();
      expect(u.headers['x-api-key']).toBeUndefined();
      expect(JSON.stringify(u.headers)).not.toContain(key);
      // The audit line of ext-authz and the upstream share nginx's $request_id.
      const requestId = String(u.headers['x-request-id']);
      expect(requestId).toMatch(/^[0-9a-f]{32}$/);
      const audit = (await authz.linesWith(requestId)).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        transport: 'http',
        policy: 'execute',
        method: 'POST',
        path: '/execute',
        client: 'agents-service',
        decision: 'allow',
        status: 200,
      });
      expect(audit[0].msg).toBe('decision');
    }
  });

  it('no key: 401 with the www-authenticate of ext-authz, nothing reaches the upstream', async () => {
    const [res, got] = await upstreamSaw(() => fetch(url('/execute'), { method: 'POST', body: executeBody }));
    expect(res.status).toBe(401);
    // auth_request passes WWW-Authenticate of a 401 on by itself: no auth_request_set needed.
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="ai-gateway"');
    expect(got).toHaveLength(0);

    const [bad, got2] = await upstreamSaw(() =>
      fetch(url('/execute'), { method: 'POST', headers: bearer('aigw_not_a_key'), body: executeBody }),
    );
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe('Bearer realm="ai-gateway", error="invalid_token"');
    expect(got2).toHaveLength(0);
  });

  it('the client cannot pick the policy: x-aigw-policy from the client is ignored', async () => {
    const [res, got] = await upstreamSaw(() =>
      fetch(url('/execute'), { method: 'POST', headers: { 'x-aigw-policy': 'models' }, body: executeBody }),
    );
    expect(res.status).toBe(401);
    expect(got).toHaveLength(0);
  });

  it('a valid key of a client the route does not allow: 403, nothing reaches the upstream', async () => {
    const [res, got] = await upstreamSaw(() =>
      fetch(url('/execute'), {
        method: 'POST',
        headers: bearer(exampleKeys['support-bot']),
        body: executeBody,
      }),
    );
    expect(res.status).toBe(403);
    expect(got).toHaveLength(0);
  });

  it('spoofed identity headers on the anonymous route never reach the upstream', async () => {
    const [res, got] = await upstreamSaw(() =>
      fetch(url('/v1/models'), {
        headers: {
          'x-aigw-client': 'admin',
          'X-AIGW-Tenant': 'root',
          'x-aigw-model': 'gpt-4o',
          'x-aigw-route': 'execute',
          'x-aigw-personal-data': 'false',
          'x-aigw-credential-openai': 'Bearer sk-spoofed',
          authorization: `Bearer ${exampleKeys['hr-assistant']}`,
        },
      }),
    );
    expect(res.status, nginx.errorLog()).toBe(200);
    expect(got).toHaveLength(1);
    const u = got[0].headers;
    expect(u['x-aigw-client']).toBeUndefined();
    expect(u['x-aigw-tenant']).toBeUndefined();
    expect(u['x-aigw-model']).toBeUndefined();
    expect(u['x-aigw-route']).toBe('models');
    expect(u['x-aigw-personal-data']).toBeUndefined();
    expect(u['x-aigw-credential-openai']).toBeUndefined();
    expect(u.authorization).toBeUndefined();
    expect(JSON.stringify(u)).not.toMatch(/admin|root|sk-spoofed/);
  });

  it('a body-dispatched route cannot work through nginx: ext-authz answers 400, nginx 500', async () => {
    // What nginx's subrequest looks like: headers only, no body.
    const direct = await fetch(`http://127.0.0.1:${authz.httpPort}/check?policy=dispatch/chat-personal-data`, {
      method: 'POST',
      headers: {
        ...bearer(exampleKeys['support-bot']),
        'x-original-uri': '/v1/chat/completions',
        'x-original-method': 'POST',
      },
    });
    expect(direct.status).toBe(400);
    expect(await direct.json()).toEqual({
      error: { message: 'this route needs a JSON request body', type: 'invalid_request_error', code: 400 },
    });

    const [res, got] = await upstreamSaw(() =>
      fetch(url('/v1/chat/completions'), {
        method: 'POST',
        headers: { ...bearer(exampleKeys['support-bot']), 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
      }),
    );
    expect(res.status).toBe(500);
    expect(got).toHaveLength(0);
    expect(nginx.errorLog()).toContain('auth request unexpected status: 400');
  });

  it('ext-authz down: nginx fails closed with 500', async () => {
    await authz.stop();
    const [models, got] = await upstreamSaw(() => fetch(url('/v1/models')));
    expect(models.status).toBe(500);
    const [execute, got2] = await upstreamSaw(() =>
      fetch(url('/execute'), {
        method: 'POST',
        headers: bearer(exampleKeys['agents-service']),
        body: executeBody,
      }),
    );
    expect(execute.status).toBe(500);
    expect([...got, ...got2]).toHaveLength(0);
    expect(nginx.errorLog()).toMatch(/connect\(\) failed \(111: Connection refused\)/);
    expect(nginx.errorLog()).toContain('auth request unexpected status: 502');
  });
});
