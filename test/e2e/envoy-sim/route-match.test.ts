import { describe, expect, it } from 'vitest';
import { RouteConfigurationSchema } from '../../../common/envoy-api/gen/envoy/config/route/v3/route_pb.js';
import { HeaderMap } from './header-map.js';
import { fragment } from './proto-fragment.js';
import { checkRouteConfiguration, findVirtualHost, matchRoute } from './route-match.js';

const rc = (json: unknown) => fragment(RouteConfigurationSchema, json);
const req = (method: string, path: string, authority = 'api.example.com', extra: [string, string][] = []) =>
  HeaderMap.fromEntries([[':authority', authority], [':method', method], [':path', path], ...extra]);
const direct = { direct_response: { status: 200 } };

describe('virtual host selection by :authority', () => {
  const config = rc({
    virtual_hosts: [
      { name: 'exact', domains: ['api.example.com', 'api.example.com:8080'] },
      { name: 'suffix', domains: ['*.example.com'] },
      { name: 'longer-suffix', domains: ['*.eu.example.com'] },
      { name: 'prefix', domains: ['api.*'] },
      { name: 'default', domains: ['*'] },
    ],
  });
  const vh = (host: string) => findVirtualHost(config, host)?.name;

  it('prefers an exact domain (case-insensitive), then the longest suffix, then prefix, then *', () => {
    expect(vh('api.example.com')).toBe('exact');
    expect(vh('API.Example.COM')).toBe('exact');
    expect(vh('www.example.com')).toBe('suffix');
    expect(vh('x.eu.example.com')).toBe('longer-suffix');
    expect(vh('api.example.org')).toBe('prefix');
    expect(vh('other.org')).toBe('default');
  });

  it('treats the port as part of the host (no port-insensitive fallback)', () => {
    expect(vh('api.example.com:8080')).toBe('exact');
    // Not the exact vhost: Envoy does not retry without the port; "*.example.com" does not match
    // "api.example.com:9090" either (the host ends with the port), "api.*" does.
    expect(vh('api.example.com:9090')).toBe('prefix');
    expect(vh('www.example.com:443')).toBe('default');
  });

  it('ignores the port with ignore_port_in_host_matching', () => {
    const c = rc({ ignore_port_in_host_matching: true, virtual_hosts: [{ name: 'a', domains: ['a.example'] }] });
    expect(findVirtualHost(c, 'a.example:1234')?.name).toBe('a');
    expect(findVirtualHost(c, '[::1]:80')).toBeUndefined();
  });

  it('needs the wildcard to cover at least one character', () => {
    const c = rc({
      virtual_hosts: [
        { name: 's', domains: ['*.example.com'] },
        { name: 'p', domains: ['foo*'] },
      ],
    });
    expect(findVirtualHost(c, '.example.com')).toBeUndefined();
    expect(findVirtualHost(c, 'foo')).toBeUndefined();
    expect(findVirtualHost(c, 'foo1')?.name).toBe('p');
  });

  it('does not look at the host when "*" is the only domain', () => {
    const c = rc({ virtual_hosts: [{ name: 'any', domains: ['*'] }] });
    expect(findVirtualHost(c, undefined)?.name).toBe('any');
  });
});

describe('route matching', () => {
  const config = rc({
    virtual_hosts: [
      {
        name: 'v',
        domains: ['*'],
        routes: [
          { name: 'exact', match: { path: '/v1/models' }, ...direct },
          { name: 'ci', match: { path: '/CaseLess', case_sensitive: false }, ...direct },
          { name: 'regex', match: { safe_regex: { regex: '/items/[0-9]+' } }, ...direct },
          { name: 'sep', match: { path_separated_prefix: '/api' }, ...direct },
          {
            name: 'post-only',
            match: { prefix: '/v1/', headers: [{ name: ':method', string_match: { exact: 'POST' } }] },
            ...direct,
          },
          {
            name: 'not-dispatched',
            match: { prefix: '/x', headers: [{ name: 'x-d', present_match: true, invert_match: true }] },
            ...direct,
          },
          { name: 'catch-all', match: { prefix: '/' }, ...direct },
        ],
      },
    ],
  });
  const route = (method: string, path: string, extra: [string, string][] = []) =>
    matchRoute(config, req(method, path, 'h', extra))?.route.name;

  it('matches path exactly, ignoring the query string', () => {
    expect(route('GET', '/v1/models')).toBe('exact');
    expect(route('GET', '/v1/models?limit=1')).toBe('exact');
    expect(route('GET', '/v1/models/')).toBe('catch-all');
    expect(route('GET', '/V1/models')).toBe('catch-all');
  });

  it('honours case_sensitive: false', () => {
    expect(route('GET', '/caseless')).toBe('ci');
  });

  it('runs safe_regex on the whole path (no query)', () => {
    expect(route('GET', '/items/42?x=1')).toBe('regex');
    expect(route('GET', '/items/42/x')).toBe('catch-all');
  });

  it('path_separated_prefix matches the prefix or prefix + "/"', () => {
    expect(route('GET', '/api')).toBe('sep');
    expect(route('GET', '/api/x')).toBe('sep');
    expect(route('GET', '/apix')).toBe('catch-all');
  });

  it('takes the first route whose path AND headers (incl. :method) fit', () => {
    expect(route('POST', '/v1/chat')).toBe('post-only');
    expect(route('GET', '/v1/chat')).toBe('catch-all');
    expect(route('GET', '/x')).toBe('not-dispatched');
    expect(route('GET', '/x', [['x-d', 'r']])).toBe('catch-all');
  });

  it('finds no route when the host has no virtual host', () => {
    const c = rc({ virtual_hosts: [{ name: 'v', domains: ['a'], routes: [{ match: { prefix: '/' }, ...direct }] }] });
    expect(matchRoute(c, req('GET', '/', 'b'))).toBeUndefined();
  });
});

describe('route configuration checks', () => {
  it('rejects a domain used twice, as Envoy does', () => {
    expect(() =>
      checkRouteConfiguration(
        rc({
          virtual_hosts: [
            { name: 'a', domains: ['x'] },
            { name: 'b', domains: ['X'] },
          ],
        }),
      ),
    ).toThrow(/used twice/);
  });
  it('refuses matching features it does not simulate', () => {
    const q = rc({
      virtual_hosts: [
        {
          name: 'a',
          domains: ['*'],
          routes: [{ match: { prefix: '/', query_parameters: [{ name: 'q', present_match: true }] }, ...direct }],
        },
      ],
    });
    expect(() => checkRouteConfiguration(q)).toThrow(/query_parameters is not simulated/);
  });
});
