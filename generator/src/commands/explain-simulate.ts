// What the gateway would do with one request, decided without starting anything: Envoy's route
// match on the generated route table (explain-envoy.ts), ext-authz's decision in the order of
// ext-authz/src/check.ts (dispatch → credential → route access → body → model), then Envoy's
// second match, the rate-limit descriptors of that route looked up in the generated rate-limit
// config by the rate-limit service's own matcher, and the backend chain.
import { topLevelString } from '../../../ext-authz/src/body/json-body.js';
import { expiryMs, keyDigest } from '../../../ext-authz/src/identity/api-keys.js';
import type { DomainConfig } from '../../../ratelimit-service/src/config/types.js';
import { reservedHeaders } from '../emit/envoy/reserved-headers.js';
import { needsBody } from '../emit/envoy/routes.js';
import type { Json } from '../emit/envoy/type-urls.js';
import { bodyFieldHeader, clusterNames, dispatchHeader, personalDataHeader } from '../emit/names.js';
import type { GatewayModel, Limit, Listener, Route } from '../model/types.js';
import {
  envoyRoutes,
  firstMatch,
  listenersForHost,
  normalisePath,
  type RouteRequest,
  routePolicy,
} from './explain-envoy.js';
import { type CountedValues, type LimitView, limitText, limitView } from './explain-limits.js';
import type { ExplainRequest } from './explain-request.js';

/** A request that cannot be explained as given (exit 2). */
export class ExplainInputError extends Error {}

export interface ExplainContext {
  model: GatewayModel;
  /** The generated rate-limit config, as the rate-limit service loads it. */
  ratelimit: DomainConfig;
  nowMs: number;
  /** "gateway.yaml:120" for a route index, when known. */
  where?: (routeIndex: number) => string | undefined;
}

export type Verdict =
  | { outcome: 'allowed'; status: 200; conditions: string[]; text: string }
  | { outcome: 'denied'; status: number; reason: string; text: string }
  | { outcome: 'no_route'; status: 404; text: string };

export interface Explanation {
  /** Ordered `key: value` lines for the text output. */
  lines: [string, string][];
  /** The same facts, for --format json. */
  json: Record<string, unknown>;
  verdict: Verdict;
}

/** Where ext-authz looks for the credential (policy.yaml headers.credentials). */
const credentialHeaders = ['authorization', 'x-api-key', 'api-key'];
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

interface Who {
  kind: 'api_key' | 'jwt';
  /** Undefined for a JWT whose claims are not known. */
  client?: string;
  tenant?: string;
  scopes?: string[];
  models: string[];
  provider?: string;
}

export function formatMs(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  const s = ms / 1000;
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600}h`;
  if (s > 600 && s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

const shortDigest = (hex: string) => `sha256:${hex.slice(0, 8)}…`;

function modelAllowed(model: string, lists: string[][]): string | undefined {
  return lists.flat().find((p) => (p.endsWith('*') ? model.startsWith(p.slice(0, -1)) : p === model));
}

function b64urlJson(part: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function clusterOf(route: Route): string {
  const a = route.action;
  if (a.kind === 'split') return a.backends.map((b) => clusterNames.backend(b.name)).join(', ');
  return a.failover.length ? clusterNames.failover([a.backend, ...a.failover]) : clusterNames.backend(a.backend);
}

function backendSummary(route: Route): string {
  const a = route.action;
  if (a.kind === 'split') {
    const total = a.backends.reduce((s, b) => s + b.weight, 0);
    return a.backends
      .map((b) => `${clusterNames.backend(b.name)} ${Math.round((b.weight / total) * 1000) / 10}%`)
      .join(', ');
  }
  const primary = clusterNames.backend(a.backend);
  return a.failover.length ? `${primary} (failover: ${a.failover.map(clusterNames.backend).join(', ')})` : primary;
}

function chainText(route: Route): string {
  const a = route.action;
  if (a.kind === 'split') return `weighted split ${backendSummary(route)}`;
  const primary = clusterNames.backend(a.backend);
  return a.failover.length
    ? `${primary}, failing over to ${a.failover.map(clusterNames.backend).join(', then ')}`
    : primary;
}

export function explainRequest(ctx: ExplainContext, req: ExplainRequest): Explanation {
  const { model } = ctx;
  const lines: [string, string][] = [];
  const json: Record<string, unknown> = {};
  const line = (k: string, v: string) => lines.push([k, v]);
  const done = (verdict: Verdict): Explanation => {
    json.verdict = verdict;
    return { lines, json, verdict };
  };
  const denied = (status: number, reason: string) =>
    done({ outcome: 'denied', status, reason, text: `would be: denied ${status} ${reason}` });
  const noRoute = () => done({ outcome: 'no_route', status: 404, text: 'would be: 404 no route' });

  // The request, credential redacted.
  const shown = [`${req.method} ${req.path}`];
  if (req.host) shown.push(`host=${req.host}`);
  for (const [k, v] of Object.entries(req.body)) shown.push(k === 'model' ? `model=${v}` : `body:${k}=${v}`);
  for (const [k, v] of req.headers) shown.push(`header:${k}=${credentialHeaders.includes(k) ? '…' : v}`);
  if (req.ip) shown.push(`ip=${req.ip}`);
  if (req.personalData) shown.push(req.personalData.length ? `personal-data=${req.personalData}` : 'personal-data');
  if (req.key !== undefined) shown.push(`key=${shortDigest(keyDigest(req.key))}`);
  if (req.jwt) shown.push(req.jwt.token ? 'jwt=…' : 'jwt');
  if (req.tokens !== undefined) shown.push(`tokens=${req.tokens}`);
  if (!req.hasBody && ['POST', 'PUT', 'PATCH'].includes(req.method.toUpperCase())) shown.push('no-body');
  line('request', shown.join(' '));
  json.request = {
    method: req.method,
    path: req.path,
    host: req.host ?? null,
    ip: req.ip ?? null,
    headers: Object.fromEntries([...req.headers].map(([k, v]) => [k, credentialHeaders.includes(k) ? '…' : v])),
    body: req.hasBody ? req.body : null,
    personal_data: req.personalData ?? false,
    credential: req.key !== undefined ? 'api_key' : req.jwt ? 'jwt' : null,
    key_sha256: req.key !== undefined ? keyDigest(req.key) : null,
    tokens: req.tokens ?? null,
  };

  // 1. Listener (virtual host) by host name.
  let listener: Listener | undefined;
  if (req.listener) {
    listener = model.listeners.find((l) => l.name === req.listener);
    if (!listener)
      throw new ExplainInputError(
        `unknown listener "${req.listener}" (known: ${model.listeners.map((l) => l.name).join(', ')})`,
      );
    if (req.host && !listenersForHost(model, req.host).includes(listener)) {
      line('listener', `${listener.name}: does not serve host "${req.host}" (${listener.hosts.join(', ')})`);
      return noRoute();
    }
  } else if (req.host) {
    let found = listenersForHost(model, req.host);
    const port = /:(\d+)$/.exec(req.host)?.[1];
    if (found.length > 1 && port) {
      const byPort = found.filter((l) => l.port === Number(port));
      if (byPort.length) found = byPort;
    }
    if (found.length === 0) {
      line('listener', `none serves host "${req.host}"`);
      json.listener = null;
      return noRoute();
    }
    if (found.length > 1)
      throw new ExplainInputError(
        `host "${req.host}" is served by listeners ${found.map((l) => l.name).join(', ')}: add listener=NAME`,
      );
    listener = found[0];
  } else {
    if (model.listeners.length !== 1)
      throw new ExplainInputError(
        `there are ${model.listeners.length} listeners (${model.listeners.map((l) => l.name).join(', ')}): add host= or listener=`,
      );
    listener = model.listeners[0];
  }
  line('listener', `${listener.name} (port ${listener.port}; hosts ${listener.hosts.join(', ')})`);
  json.listener = listener.name;

  // 2. Envoy rejects header names with underscores (headers_with_underscores_action), then removes
  // every reserved header (early header mutation) and matches the first route.
  const underscored = [...req.headers.keys()].filter((k) => k.includes('_'));
  if (underscored.length) {
    line('envoy', `rejects the header name ${underscored.join(', ')}: underscores are not accepted`);
    return done({
      outcome: 'denied',
      status: 400,
      reason: `header name "${underscored[0]}" has an underscore (rejected by Envoy)`,
      text: `would be: denied 400 by Envoy: header name "${underscored[0]}" has an underscore`,
    });
  }
  const reserved = new Set(reservedHeaders(model));
  const headers = new Map([...req.headers].filter(([k]) => !reserved.has(k)));
  const dropped = [...req.headers.keys()].filter((k) => reserved.has(k));
  if (dropped.length) line('note', `Envoy removes ${dropped.join(', ')} before routing (reserved for the gateway)`);
  const rr: RouteRequest = { method: req.method, path: normalisePath(req.path), host: req.host ?? '', headers };
  const table = envoyRoutes(model, listener.name);
  const first = firstMatch(table, rr);
  if (!first) {
    line('route', `none of the ${table.length} route(s) of listener ${listener.name} matches`);
    json.route = null;
    return noRoute();
  }
  json.envoy_routes = [first.name];
  const firstPolicy = routePolicy(first) ?? '';
  const routeByName = (name: string) => model.routes.find((r) => r.name === name);

  // 3. ext-authz: dispatch on the body.
  const body: Record<string, unknown> | undefined = req.hasBody ? { ...req.body } : undefined;
  let bodyRead = false;
  let personalData: string[] | undefined;
  const found = req.personalData ? (req.personalData.length ? req.personalData : ['…']) : [];
  let policyRoute: Route;
  const dispatchHeaders = new Map<string, string>();
  const groupId = firstPolicy.startsWith('dispatch/') ? firstPolicy.slice('dispatch/'.length) : undefined;
  const group = groupId !== undefined ? model.dispatchGroups.find((g) => g.id === groupId) : undefined;
  if (group) {
    line('envoy route', `${first.name}: ext-authz chooses among ${group.members.join(', ')} from the body`);
    if (!body) return denied(400, 'this route needs a JSON request body');
    bodyRead = true;
    const values: Record<string, string | undefined> = {};
    for (const f of group.fields) {
      const v = topLevelString(body, f);
      if (!v.ok) return denied(400, v.reason);
      values[f] = v.value;
    }
    personalData = group.personalData ? found : undefined;
    const member = group.members
      .map((n) => routeByName(n)!)
      .find((m) => {
        for (const [field, accepted] of Object.entries(m.match.body)) {
          const v = values[field];
          if (v === undefined || !accepted.includes(v)) return false;
        }
        return m.match.personalData === undefined || m.match.personalData === (personalData?.length ?? 0) > 0;
      });
    const seen = [
      ...group.fields.map((f) => `${f}=${values[f] === undefined ? '(absent)' : JSON.stringify(values[f])}`),
      ...(group.personalData ? [`personal data ${personalData?.length ? 'yes' : 'no'}`] : []),
    ];
    json.dispatch = {
      policy: firstPolicy,
      fields: Object.fromEntries(group.fields.map((f) => [f, values[f] ?? null])),
      personal_data: group.personalData ? (personalData?.length ?? 0) > 0 : null,
      route: member?.name ?? null,
    };
    if (!member) {
      line('dispatch', `${seen.join(', ')} → no member matches`);
      const shownValues = Object.entries(values)
        .map(([k, v]) => `${k} "${v ?? ''}"`)
        .join(', ');
      return denied(404, `no route serves this request (${shownValues || 'no routing fields'})`);
    }
    line('dispatch', `${seen.join(', ')} → ${member.name}`);
    dispatchHeaders.set(dispatchHeader, member.name);
    for (const f of group.fields) if (values[f] !== undefined) dispatchHeaders.set(bodyFieldHeader(f), values[f]!);
    if (personalData) dispatchHeaders.set(personalDataHeader, String(personalData.length > 0));
    policyRoute = member;
  } else {
    const r = routeByName(firstPolicy);
    if (!r) return denied(403, firstPolicy ? `unknown policy "${firstPolicy}"` : 'the route names no policy');
    policyRoute = r;
  }
  const at = ctx.where?.(policyRoute.index);
  line('route', `${policyRoute.name} (routes[${policyRoute.index}]${at ? `, ${at}` : ''})`);
  line('policy', `${policyRoute.name}${group ? ` (chosen by ${firstPolicy})` : ''}`);
  json.route = policyRoute.name;
  json.policy = policyRoute.name;

  // 4. Who is calling (ext-authz identify()).
  const a = policyRoute.auth;
  const accepts = a.anonymous
    ? 'anonymous (no credential needed)'
    : [a.apiKey ? 'API key' : '', a.jwt.length ? `JWT from ${a.jwt.join(', ')}` : ''].filter(Boolean).join(' or ');
  const access = [
    a.clients.length ? `clients ${a.clients.join(', ')}` : '',
    a.tenants.length ? `tenants ${a.tenants.join(', ')}` : '',
    a.scopes.length ? `scopes ${a.scopes.join(', ')}` : '',
  ].filter(Boolean);
  line('auth', `${accepts}${!a.anonymous ? `; ${access.length ? `only ${access.join('; ')}` : 'any client'}` : ''}`);
  json.auth = {
    anonymous: a.anonymous,
    api_key: a.apiKey,
    jwt: a.jwt,
    clients: a.clients,
    tenants: a.tenants,
    scopes: a.scopes,
  };
  for (const name of a.jwt) {
    const p = model.jwtProviders.find((x) => x.name === name);
    if (p)
      line(
        'jwt provider',
        `${p.name}: issuer ${p.issuer}, audiences ${p.audiences.join(', ') || '(any)'}, ${p.algorithms.join('/')}; client from "${p.claims.client}", tenant from "${p.claims.tenant}"`,
      );
  }

  const conditions: string[] = [];
  let who: Who | undefined;
  if (!a.anonymous) {
    // The one credential, as ext-authz's credential(): key= and jwt= are sent as
    // `authorization: Bearer …`; header:authorization, header:x-api-key and header:api-key count too.
    const creds: string[] = [];
    const sent: [string | undefined, boolean][] = [
      [req.key, false],
      [req.jwt?.token, false],
      ...credentialHeaders.map((h): [string | undefined, boolean] => [headers.get(h), h === 'authorization']),
    ];
    for (const [raw, bearer] of sent) {
      if (raw === undefined) continue;
      let v = raw.trim();
      if (bearer) {
        const m = /^Bearer\s+(.+)$/i.exec(v);
        if (!m) return denied(401, 'the authorization header must be "Bearer <key or token>"');
        v = m[1].trim();
      }
      if (v.includes(',') || /\s/.test(v)) return denied(401, 'several credentials in one header');
      if (v) creds.push(v);
    }
    if (creds.length > 1) return denied(401, 'several credentials: send exactly one');
    const token = creds[0];
    if (token === undefined && !req.jwt) {
      line('identity', 'none: the request carries no credential');
      json.identity = null;
      return denied(401, 'missing credentials: send an API key or a token');
    }
    if (token === undefined || (jwtShape.test(token) && a.jwt.length)) {
      // A JWT: ext-authz verifies it against the route's providers. Nothing is verified here.
      if (!a.jwt.length) {
        line('identity', 'a JWT, but this route takes no JWT provider');
        return denied(401, 'invalid API key');
      }
      const providers = a.jwt.join(', ');
      if (token === undefined) {
        who = { kind: 'jwt', models: [] };
        line('identity', `a JWT: accepted if it verifies against ${providers} (claims unknown)`);
        conditions.push(`the JWT verifies (${providers})`);
        json.identity = { kind: 'jwt', providers: a.jwt, verified: false, client: null, tenant: null };
      } else {
        const parts = token.split('.');
        const header = b64urlJson(parts[0]);
        const claims = b64urlJson(parts[1]);
        if (!header || !claims) {
          line('identity', 'a JWT that does not decode');
          return denied(401, 'malformed token');
        }
        const p = model.jwtProviders.find((x) => a.jwt.includes(x.name) && x.issuer === claims.iss);
        if (!p) {
          line('identity', `a JWT from issuer ${JSON.stringify(claims.iss ?? null)}, not one of ${providers}`);
          return denied(401, 'wrong issuer');
        }
        const own = (n: string) => (n && Object.hasOwn(claims, n) ? claims[n] : undefined);
        const client = own(p.claims.client);
        if (typeof client !== 'string' || client === '') return denied(401, `token has no ${p.claims.client} claim`);
        const t = own(p.claims.tenant);
        if (t !== undefined && typeof t !== 'string')
          return denied(401, `token has a malformed ${p.claims.tenant} claim`);
        const s = own(p.claims.scopes);
        let scopes: string[] = [];
        if (typeof s === 'string') scopes = s.split(/\s+/).filter(Boolean);
        else if (Array.isArray(s) && s.every((x) => typeof x === 'string')) scopes = s as string[];
        else if (s !== undefined) return denied(401, `token has a malformed ${p.claims.scopes} claim`);
        who = { kind: 'jwt', client, tenant: (t as string | undefined) ?? '', scopes, models: [], provider: p.name };
        line(
          'identity',
          `client ${client}, tenant ${who.tenant || '(none)'}${scopes.length ? `, scopes ${scopes.join(' ')}` : ''} from a ${p.name} JWT (claims read, signature/audience/expiry not verified)`,
        );
        conditions.push(`the JWT verifies (${p.name})`);
        json.identity = { kind: 'jwt', provider: p.name, verified: false, client, tenant: who.tenant, scopes };
      }
    } else if (a.apiKey) {
      const digest = keyDigest(token);
      const owner = token.length > 512 ? undefined : model.clients.find((c) => c.keys.some((k) => k.sha256 === digest));
      if (!owner) {
        line('identity', `unknown key (${shortDigest(digest)} is no client's key)`);
        json.identity = { kind: 'api_key', key_sha256: digest, client: null };
        return denied(401, 'invalid API key');
      }
      const k = owner.keys.find((x) => x.sha256 === digest)!;
      const exp = expiryMs(k.expires);
      json.identity = {
        kind: 'api_key',
        key_sha256: digest,
        client: owner.name,
        tenant: owner.tenant,
        models: owner.models,
        expires: k.expires ?? null,
      };
      if (exp !== undefined && ctx.nowMs >= exp) {
        line(
          'identity',
          `client ${owner.name}, tenant ${owner.tenant}: key ${shortDigest(digest)} expired ${k.expires}`,
        );
        return denied(401, 'API key expired');
      }
      who = { kind: 'api_key', client: owner.name, tenant: owner.tenant, scopes: [], models: owner.models };
      line(
        'identity',
        `client ${owner.name}, tenant ${owner.tenant} (API key ${shortDigest(digest)}${k.expires ? `, valid through ${k.expires}` : ''})`,
      );
    } else {
      line('identity', 'an API key, but this route takes only JWTs');
      return denied(401, a.jwt.length ? 'malformed token' : 'invalid API key');
    }
  } else {
    line('identity', 'anonymous (the route reads no credential)');
    json.identity = { kind: 'anonymous' };
  }

  // 5. May they use this route?
  if (who) {
    const checks: [string[], string | undefined, string][] = [
      [a.clients, who.client, 'client'],
      [a.tenants, who.tenant, 'tenant'],
    ];
    for (const [list, value, what] of checks) {
      if (!list.length) continue;
      if (value === undefined) conditions.push(`the token's ${what} is one of ${list.join(', ')}`);
      else if (!list.includes(value)) {
        line('access', `${what} ${value} is not in ${list.join(', ')}`);
        return denied(403, `${what} "${value}" may not use this route`);
      }
    }
    if (who.kind === 'jwt' && a.scopes.length) {
      if (!who.scopes) conditions.push(`the token has scopes ${a.scopes.join(', ')}`);
      else {
        const missing = a.scopes.filter((s) => !who!.scopes!.includes(s));
        if (missing.length) return denied(403, `missing scope ${missing.join(', ')}`);
      }
    }
    if (a.clients.length || a.tenants.length || a.scopes.length)
      line('access', who.client !== undefined ? 'allowed' : 'depends on the token');
  }

  // 6. The body: model, personal data, token estimate.
  let requestModel: string | undefined;
  let tokens: number | undefined;
  const sendsBody = ['POST', 'PUT', 'PATCH'].includes(req.method.toUpperCase());
  if (!bodyRead && needsBody(policyRoute) && (sendsBody || req.hasBody)) {
    if (!body) return denied(400, 'this route needs a JSON request body');
    bodyRead = true;
  }
  if (bodyRead && body) {
    if (policyRoute.modelField) {
      const m = topLevelString(body, policyRoute.modelField);
      if (!m.ok) return denied(400, m.reason);
      requestModel = m.value;
    }
    tokens = req.tokens;
    if (policyRoute.personalData === 'deny') {
      const pd = personalData ?? found;
      line(
        'personal data',
        pd.length ? 'found, and this route does not accept it' : 'none found; the route refuses it',
      );
      if (pd.length)
        return denied(403, `the request contains personal data (${pd.join(', ')}); this route does not accept it`);
    }
  }
  const clientModels = who?.models ?? [];
  const modelInfo: Record<string, unknown> = {
    field: policyRoute.modelField ?? null,
    value: requestModel ?? null,
    client_models: clientModels,
    route_models: policyRoute.models,
  };
  json.model = modelInfo;
  if (clientModels.length && policyRoute.modelField && bodyRead) {
    if (requestModel === undefined) {
      line('model', `no "${policyRoute.modelField}" field; client ${who!.client} has a model list`);
      return denied(400, `the JSON body needs a "${policyRoute.modelField}" field`);
    }
    const hit = modelAllowed(requestModel, [clientModels, policyRoute.models]);
    modelInfo.allowed = hit !== undefined;
    if (hit === undefined) {
      line('model', `${requestModel}: not in client ${who!.client}'s list (${clientModels.join(', ')})`);
      return denied(403, `model "${requestModel}" is not allowed for client "${who!.client}"`);
    }
    line('model', `${requestModel}: allowed for client ${who!.client} (${hit})`);
  } else if (requestModel !== undefined) {
    modelInfo.allowed = true;
    line('model', `${requestModel}: no model list applies`);
  }

  // 7. Envoy's second match, on the headers ext-authz set (dispatch only).
  let route = policyRoute;
  if (group) {
    const again = firstMatch(table, { ...rr, headers: new Map([...headers, ...dispatchHeaders]) });
    if (!again) {
      line('envoy route', 'the second match finds no route');
      return noRoute();
    }
    json.envoy_routes = [first.name, again.name];
    if (again.name !== policyRoute.name) {
      line(
        'note',
        `Envoy's second match lands on ${again.name}, not ${policyRoute.name}: its limits and backends apply`,
      );
      route = routeByName(String(again.name)) ?? policyRoute;
    }
  }

  // 8. Limits: the descriptors the route's rate_limits build, looked up like the rate-limit service.
  const jwtClaims = model.jwtProviders.find((x) => a.jwt.includes(x.name))?.claims;
  const counted: CountedValues = {
    ip: req.ip,
    model: requestModel,
    identity: !who ? 'none' : who.client === undefined ? 'token' : 'known',
    client: who?.client,
    tenant: who?.tenant,
    claims: jwtClaims ? { client: jwtClaims.client, tenant: jwtClaims.tenant } : undefined,
  };
  const limitsByName = new Map(model.limits.map((l) => [l.name, l]));
  const view = (limit: Limit, r: Route) => limitView(ctx.ratelimit, limit, r, counted);

  // The Envoy route's rate_limits (request limits), read from the generated route.
  const envoyRoute = table.find((x) => x.name === route.name);
  const views: LimitView[] = [];
  for (const rl of ((envoyRoute?.route as Json | undefined)?.rate_limits as Json[] | undefined) ?? []) {
    const name = ((rl.actions as Json[])[0]?.generic_key as Json | undefined)?.descriptor_value;
    const limit = limitsByName.get(String(name));
    if (limit) views.push(view(limit, route));
  }
  // Token limits: charged by ext-authz (the policy route's token_limits) on its estimate of the
  // body, so only when it read one and the estimate is above 0.
  if (bodyRead && tokens !== 0) {
    for (const name of policyRoute.limits) {
      const limit = limitsByName.get(name)!;
      if (limit.kind !== 'tokens') continue;
      const v = view(limit, policyRoute);
      if (tokens !== undefined) v.charge = tokens;
      views.push(v);
    }
  }
  for (const v of views) line(v.kind === 'tokens' ? 'token limit' : 'limit', limitText(v));
  if (!views.length) line('limits', 'none');
  json.limits = views;

  // 9. Backends, timeouts, retries.
  const a2 = route.action;
  const chain = a2.kind === 'single' ? [a2.backend, ...a2.failover] : a2.backends.map((b) => b.name);
  line('backends', `${chainText(route)} (Envoy cluster ${clusterOf(route)})`);
  for (const name of chain) {
    const b = model.backends.find((x) => x.name === name)!;
    const cred = b.credential
      ? `; provider key from ${b.credential.source.kind === 'secret' ? `secret ${b.credential.source.name}/${b.credential.source.key}` : b.credential.source.kind === 'file' ? `file ${b.credential.source.path}` : `env ${b.credential.source.name}`} injected as ${b.credential.header}`
      : '';
    line(
      `  ${clusterNames.backend(name)}`,
      `${b.kind} ${b.scheme}://${b.host}:${b.port}, connect ${formatMs(b.connectTimeoutMs)}${cred}`,
    );
  }
  line(
    'timeout',
    route.timeoutMs === 0
      ? `none${route.streaming ? ' (streaming)' : ''}${route.idleTimeoutMs !== undefined ? `, idle ${formatMs(route.idleTimeoutMs)}` : ''}`
      : `${formatMs(route.timeoutMs)}${route.idleTimeoutMs !== undefined ? `, idle ${formatMs(route.idleTimeoutMs)}` : ''}`,
  );
  const r = route.retries;
  line(
    'retries',
    r
      ? `${r.attempts} on ${r.on.join(', ')}; backoff ${formatMs(r.baseMs)}..${formatMs(r.maxMs)}${r.perTryTimeoutMs ? `; ${formatMs(r.perTryTimeoutMs)} per try` : ''}${a2.kind === 'single' && a2.failover.length ? '; each retry goes to the next backend of the chain' : ''}`
      : 'none',
  );
  json.backends =
    a2.kind === 'single'
      ? {
          kind: 'single',
          cluster: clusterOf(route),
          primary: clusterNames.backend(a2.backend),
          failover: a2.failover.map(clusterNames.backend),
        }
      : {
          kind: 'split',
          clusters: a2.backends.map((b) => ({ cluster: clusterNames.backend(b.name), weight: b.weight })),
        };
  json.timeout_ms = route.timeoutMs;
  json.idle_timeout_ms = route.idleTimeoutMs ?? null;
  json.retries = r
    ? {
        attempts: r.attempts,
        on: r.on,
        base_ms: r.baseMs,
        max_ms: r.maxMs,
        per_try_timeout_ms: r.perTryTimeoutMs ?? null,
      }
    : null;

  const cond = conditions.length ? ` if ${conditions.join(' and ')}` : '';
  const enforced = views.filter((v) => !v.shadow && v.amount !== undefined);
  if (enforced.length)
    line('429', `when ${enforced.map((v) => v.name).join(', ')} ${enforced.length > 1 ? 'are' : 'is'} used up`);
  return done({
    outcome: 'allowed',
    status: 200,
    conditions,
    text: `would be: allowed${cond} → ${backendSummary(route)}`,
  });
}
