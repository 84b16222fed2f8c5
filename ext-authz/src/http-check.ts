// The HTTP check, for Envoy's ext_authz http_service mode and for nginx `auth_request` /
// ingress-nginx `auth-url`: the same decisions, with the identity in response headers.
//
//   /check?policy=NAME
// The policy comes only from the URL the proxy is configured with, never from a request header
// (a client could send one).
// The original request comes as nginx sends it (X-Original-Method, X-Original-URI) or, for
// Envoy's http_service, as the request itself (method, path after /check, headers, body).
// 200: allowed, with the headers the upstream should get (x-aigw-client, …) in the response;
// 401/403/400/404/503: denied, with a JSON body. nginx passes no body: routes that must read
// the body are denied with 400.
import type http from 'node:http';
import type { CheckInput, Decision } from './decision.js';
import { denialBody } from './decision.js';

export function checkInputFromHttp(req: http.IncomingMessage, body: Buffer, requestId: string): CheckInput {
  const url = new URL(req.url ?? '/', 'http://check');
  const headers = new Map<string, string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i].toLowerCase();
    headers.set(k, [...(headers.get(k) ?? []), req.rawHeaders[i + 1]]);
  }
  // nginx auth_request: X-Original-URI; ingress-nginx auth-url: X-Original-URL (a full URL).
  const originalUrl = headers.get('x-original-url')?.[0];
  const original = headers.get('x-original-uri')?.[0] ?? (originalUrl ? pathOf(originalUrl) : undefined);
  const path =
    original ??
    (url.pathname.slice('/check'.length) || '/') +
      url.search.replace(/([?&])policy=[^&]*&?/, '$1').replace(/[?&]$/, '');
  return {
    method: headers.get('x-original-method')?.[0] ?? req.method ?? 'GET',
    path,
    host: headers.get('x-forwarded-host')?.[0] ?? headers.get('host')?.[0] ?? '',
    headers,
    body: body.length ? body : undefined,
    policy: url.searchParams.get('policy') ?? undefined,
    requestId,
    sourceIp: headers.get('x-real-ip')?.[0] ?? req.socket.remoteAddress ?? '',
  };
}

function pathOf(u: string): string {
  try {
    const p = new URL(u);
    return p.pathname + p.search;
  } catch {
    return u;
  }
}

export function writeHttpDecision(res: http.ServerResponse, d: Decision): void {
  if (d.allow) {
    for (const [k, v] of d.setHeaders) res.setHeader(k, v);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  for (const [k, v] of d.responseHeaders) res.setHeader(k, v);
  res.writeHead(d.status, { 'content-type': 'application/json' });
  res.end(denialBody(d));
}
