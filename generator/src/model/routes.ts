import type { PathSegment } from '../config/source.js';
import type { BuildContext } from './context.js';
import type { RawGateway, RawRoute, RawStringMatch } from './raw.js';
import type { Backend, HeaderMatch, Retries, Route, RouteAction, RouteAuth, StringMatch } from './types.js';
import { durationMs, regexProblem } from './units.js';

const defaultRetryOn = ['5xx', 'reset', 'connect-failure', '429'];

function stringMatch(
  ctx: BuildContext,
  m: RawStringMatch,
  path: PathSegment[],
  where: string,
): StringMatch | undefined {
  const kind = ctx.exactlyOne(m as Record<string, unknown>, ['exact', 'prefix', 'regex'], path, where) as
    | StringMatch['kind']
    | undefined;
  if (!kind) return undefined;
  const value = m[kind]!;
  if (kind === 'regex') {
    try {
      new RegExp(value, 'u');
    } catch (e) {
      ctx.error([...path, 'regex'], `${where}.regex: invalid regular expression: ${regexProblem(e)}`);
    }
  }
  if ((kind === 'exact' || kind === 'prefix') && path.includes('path') && !value.startsWith('/')) {
    ctx.error([...path, kind], `${where}.${kind}: a path must start with "/"`);
  }
  return { kind, value };
}

function headerMatches(ctx: BuildContext, r: RawRoute, i: number): HeaderMatch[] {
  return (r.match.headers ?? []).map((h, j) => {
    const path: PathSegment[] = ['routes', i, 'match', 'headers', j];
    const where = `routes[${i}].match.headers[${j}]`;
    if (h.name.startsWith('x-aigw-') || h.name.startsWith(':')) {
      ctx.error([...path, 'name'], `${where}.name: "${h.name}" is reserved for the gateway`);
    }
    const hasString = h.exact !== undefined || h.prefix !== undefined || h.regex !== undefined;
    if (h.present !== undefined && !hasString) return { name: h.name, present: h.present };
    if (h.present !== undefined) {
      ctx.error(path, `${where}: set either present or one of exact, prefix, regex`);
      return { name: h.name };
    }
    return { name: h.name, match: stringMatch(ctx, h, path, where) };
  });
}

function action(ctx: BuildContext, r: RawRoute, i: number, backends: Map<string, Backend>): RouteAction | undefined {
  const where = `routes[${i}]`;
  const known = (name: string, path: PathSegment[], field: string) => {
    if (!backends.has(name))
      ctx.error(path, `${where}.${field}: unknown backend "${name}" (known: ${[...backends.keys()].join(', ')})`);
  };
  if ((r.backend === undefined) === (r.backends === undefined)) {
    ctx.error(['routes', i], `${where}: set exactly one of backend, backends`);
    return undefined;
  }
  if (r.backends) {
    if (r.failover)
      ctx.error(['routes', i, 'failover'], `${where}.failover: failover needs a single backend, not a weighted split`);
    for (const [j, b] of r.backends.entries())
      known(b.name, ['routes', i, 'backends', j, 'name'], `backends[${j}].name`);
    const seen = new Set<string>();
    r.backends.forEach((b, j) => {
      if (seen.has(b.name))
        ctx.error(['routes', i, 'backends', j, 'name'], `${where}.backends[${j}].name: "${b.name}" appears twice`);
      seen.add(b.name);
    });
    if (r.backends.every((b) => b.weight === 0))
      ctx.error(['routes', i, 'backends'], `${where}.backends: at least one weight must be above 0`);
    return { kind: 'split', backends: r.backends.map((b) => ({ name: b.name, weight: b.weight })) };
  }
  const backend = r.backend!;
  known(backend, ['routes', i, 'backend'], 'backend');
  const failover = r.failover ?? [];
  failover.forEach((f, j) => {
    known(f, ['routes', i, 'failover', j], `failover[${j}]`);
    if (f === backend)
      ctx.error(['routes', i, 'failover', j], `${where}.failover[${j}]: "${f}" is already the route's backend`);
    if (backends.get(f)?.credential) {
      ctx.error(
        ['routes', i, 'failover', j],
        `${where}.failover[${j}]: "${f}" needs a provider key, but Envoy can inject only the primary's on a failover chain; fail over to a backend without one (e.g. an in-house model)`,
      );
    }
  });
  return { kind: 'single', backend, failover };
}

function auth(ctx: BuildContext, raw: RawGateway, r: RawRoute, i: number): RouteAuth {
  const where = `routes[${i}].auth`;
  if (r.auth === 'anonymous') return { anonymous: true, apiKey: false, jwt: [], clients: [], tenants: [], scopes: [] };
  const a = r.auth;
  const out: RouteAuth = {
    anonymous: false,
    apiKey: a.api_key ?? false,
    jwt: a.jwt ?? [],
    clients: a.clients ?? [],
    tenants: a.tenants ?? [],
    scopes: a.scopes ?? [],
  };
  if (!out.apiKey && out.jwt.length === 0) {
    ctx.error(
      ['routes', i, 'auth'],
      `${where}: accepts no credential: set api_key: true and/or jwt: [provider], or write auth: anonymous`,
    );
  }
  const clients = raw.clients ?? [];
  if (out.apiKey && clients.length === 0)
    ctx.error(['routes', i, 'auth', 'api_key'], `${where}.api_key: no clients are defined`);
  const providers = new Set((raw.jwt_providers ?? []).map((p) => p.name));
  out.jwt.forEach((p, j) => {
    if (!providers.has(p))
      ctx.error(['routes', i, 'auth', 'jwt', j], `${where}.jwt[${j}]: unknown JWT provider "${p}"`);
  });
  const clientNames = new Set(clients.map((c) => c.name));
  if (out.jwt.length === 0) {
    out.clients.forEach((c, j) => {
      if (!clientNames.has(c))
        ctx.error(['routes', i, 'auth', 'clients', j], `${where}.clients[${j}]: unknown client "${c}"`);
    });
    const tenants = new Set(clients.map((c) => c.tenant));
    out.tenants.forEach((t, j) => {
      if (!tenants.has(t))
        ctx.error(['routes', i, 'auth', 'tenants', j], `${where}.tenants[${j}]: no client has tenant "${t}"`);
    });
    if (out.scopes.length)
      ctx.error(
        ['routes', i, 'auth', 'scopes'],
        `${where}.scopes: scopes come from JWTs, but the route accepts no JWT provider`,
      );
  }
  return out;
}

function retries(ctx: BuildContext, r: RawRoute, i: number, failover: number): Retries | undefined {
  if (!r.retries && failover === 0) return undefined;
  const raw = r.retries ?? {};
  const out: Retries = {
    attempts: raw.attempts ?? Math.max(1, failover),
    on: raw.on ?? defaultRetryOn,
    baseMs: durationMs(raw.backoff?.base ?? '250ms'),
    maxMs: durationMs(raw.backoff?.max ?? '2s'),
    perTryTimeoutMs: raw.per_try_timeout ? durationMs(raw.per_try_timeout) : undefined,
  };
  if (out.baseMs <= 0)
    ctx.error(['routes', i, 'retries', 'backoff', 'base'], `routes[${i}].retries.backoff.base: must be more than 0s`);
  if (out.maxMs < out.baseMs)
    ctx.error(
      ['routes', i, 'retries', 'backoff', 'max'],
      `routes[${i}].retries.backoff.max: must not be less than base`,
    );
  if (failover > 0 && out.attempts < failover) {
    ctx.error(
      ['routes', i, 'retries', 'attempts'],
      `routes[${i}].retries.attempts: ${out.attempts} retries cannot reach all ${failover} failover backend(s)`,
    );
  }
  return out;
}

export function buildRoutes(ctx: BuildContext, raw: RawGateway, backends: Backend[]): Route[] {
  ctx.uniqueNames(raw.routes, 'routes');
  const byName = new Map(backends.map((b) => [b.name, b]));
  const listeners = raw.listeners.map((l) => l.name);
  return raw.routes.map((r, i): Route => {
    const where = `routes[${i}]`;
    let listener = r.listener ?? listeners[0];
    if (r.listener === undefined && listeners.length > 1) {
      ctx.error(['routes', i], `${where}: name its listener (there are ${listeners.length}: ${listeners.join(', ')})`);
    } else if (!listeners.includes(listener)) {
      ctx.error(['routes', i, 'listener'], `${where}.listener: unknown listener "${listener}"`);
      listener = listeners[0];
    }
    const act = action(ctx, r, i, byName) ?? { kind: 'single', backend: r.backend ?? '', failover: [] };
    const chain = act.kind === 'single' ? [act.backend, ...act.failover] : act.backends.map((b) => b.name);
    const llm = chain.some((b) => byName.get(b)?.kind !== undefined && byName.get(b)?.kind !== 'http');
    const body = Object.fromEntries(
      Object.entries(r.match.body ?? {}).map(([k, v]) => [k, typeof v === 'string' ? [v] : v]),
    );
    const streaming = r.streaming ?? false;
    if (streaming && r.timeout !== undefined && durationMs(r.timeout) !== 0) {
      ctx.error(
        ['routes', i, 'timeout'],
        `${where}.timeout: a streaming route has no whole-request timeout; use idle_timeout`,
      );
    }
    if (r.idle_timeout !== undefined && durationMs(r.idle_timeout) <= 0) {
      ctx.error(['routes', i, 'idle_timeout'], `${where}.idle_timeout: must be more than 0s`);
    }
    const modelField = body.model || llm ? 'model' : undefined;
    if (r.models?.length && !modelField) {
      ctx.error(
        ['routes', i, 'models'],
        `${where}.models: the route's backends are plain http and its body has no model field`,
      );
    }
    return {
      name: r.name,
      index: i,
      listener,
      match: {
        path: stringMatch(ctx, r.match.path, ['routes', i, 'match', 'path'], `${where}.match.path`) ?? {
          kind: 'prefix',
          value: '/',
        },
        methods: r.match.methods ? [...r.match.methods] : undefined,
        headers: headerMatches(ctx, r, i),
        body,
        personalData: r.match.personal_data,
      },
      action: act,
      timeoutMs: streaming ? 0 : durationMs(r.timeout ?? '60s'),
      idleTimeoutMs: r.idle_timeout ? durationMs(r.idle_timeout) : streaming ? 300_000 : undefined,
      streaming,
      retries: retries(ctx, r, i, act.kind === 'single' ? act.failover.length : 0),
      auth: auth(ctx, raw, r, i),
      models: r.models ?? [],
      personalData: r.personal_data ?? 'allow',
      modelField,
      limits: [],
    };
  });
}
