import http from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkInputFromHttp } from './http-check.js';

function request(url: string, headers: Record<string, string>): http.IncomingMessage {
  const req = new http.IncomingMessage(new Socket());
  req.url = url;
  req.method = 'GET';
  req.rawHeaders = Object.entries(headers).flat();
  return req;
}

describe('HTTP check input', () => {
  it('takes the policy from the URL only, never from a client header', () => {
    expect(checkInputFromHttp(request('/check?policy=execute', {}), Buffer.alloc(0), 'r').policy).toBe('execute');
    expect(
      checkInputFromHttp(request('/check', { 'x-aigw-policy': 'models' }), Buffer.alloc(0), 'r').policy,
    ).toBeUndefined();
  });

  it('reads the original request from nginx (X-Original-URI) and ingress-nginx (X-Original-URL)', () => {
    const nginx = checkInputFromHttp(
      request('/check?policy=p', { 'X-Original-URI': '/v1/models?x=1', 'X-Original-Method': 'POST' }),
      Buffer.alloc(0),
      'r',
    );
    expect(nginx).toMatchObject({ path: '/v1/models?x=1', method: 'POST' });
    const ingress = checkInputFromHttp(
      request('/check?policy=p', { 'X-Original-URL': 'https://llm.example.com/v1/embeddings' }),
      Buffer.alloc(0),
      'r',
    );
    expect(ingress.path).toBe('/v1/embeddings');
  });
});
