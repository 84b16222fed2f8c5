import { describe, expect, it } from 'vitest';
import { covers } from './shadowing.js';
import type { Route, RouteMatch } from './types.js';

function route(name: string, match: Partial<RouteMatch>, listener = 'l'): Route {
  return {
    name,
    index: 0,
    listener,
    match: { path: { kind: 'prefix', value: '/' }, headers: [], body: {}, ...match },
    action: { kind: 'single', backend: 'b', failover: [] },
    timeoutMs: 0,
    streaming: false,
    auth: { anonymous: true, apiKey: false, jwt: [], clients: [], tenants: [], scopes: [] },
    models: [],
    personalData: 'allow',
    limits: [],
  };
}

describe('covers (route a matches every request route b matches)', () => {
  it('a prefix covers longer prefixes and exact paths under it, not the other way round', () => {
    const a = route('a', { path: { kind: 'prefix', value: '/v1/' } });
    expect(covers(a, route('b', { path: { kind: 'exact', value: '/v1/models' } }))).toBe(true);
    expect(covers(a, route('b', { path: { kind: 'prefix', value: '/v1/chat/' } }))).toBe(true);
    expect(covers(a, route('b', { path: { kind: 'prefix', value: '/v2/' } }))).toBe(false);
    expect(covers(route('b', { path: { kind: 'exact', value: '/v1/models' } }), a)).toBe(false);
  });

  it('a regex covers only the same regex', () => {
    const a = route('a', { path: { kind: 'regex', value: '^/v1/.*' } });
    expect(covers(a, route('b', { path: { kind: 'exact', value: '/v1/x' } }))).toBe(false);
    expect(covers(a, route('b', { path: { kind: 'regex', value: '^/v1/.*' } }))).toBe(true);
  });

  it('methods, headers and body narrow what a route covers', () => {
    const post = route('a', { methods: ['POST'] });
    expect(covers(post, route('b', { methods: ['POST'] }))).toBe(true);
    expect(covers(post, route('b', { methods: ['GET', 'POST'] }))).toBe(false);
    expect(covers(post, route('b', {}))).toBe(false);
    const header = route('a', { headers: [{ name: 'x-team', match: { kind: 'exact', value: 'a' } }] });
    expect(covers(header, route('b', {}))).toBe(false);
    expect(
      covers(
        header,
        route('b', {
          headers: [
            { name: 'x-team', match: { kind: 'exact', value: 'a' } },
            { name: 'x-b', present: true },
          ],
        }),
      ),
    ).toBe(true);
    const body = route('a', { body: { model: ['m1', 'm2'] } });
    expect(covers(body, route('b', { body: { model: ['m1'] } }))).toBe(true);
    expect(covers(body, route('b', { body: { model: ['m1', 'm3'] } }))).toBe(false);
    expect(covers(body, route('b', {}))).toBe(false);
  });

  it('personal data and listeners', () => {
    expect(covers(route('a', { personalData: true }), route('b', {}))).toBe(false);
    expect(covers(route('a', {}), route('b', { personalData: true }))).toBe(true);
    expect(covers(route('a', {}, 'one'), route('b', {}, 'two'))).toBe(false);
  });
});
