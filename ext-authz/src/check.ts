// The decision pipeline: policy → (dispatch on the body) → credential → route access → body
// (model, personal data, token estimate) → headers and metadata for the upstream.
// Fails closed: anything unknown or unreadable is denied.

import { parseJsonBody, topLevelString } from './body/json-body.js';
import { compilePersonalData, type PersonalDataDetector } from './body/personal-data.js';
import { estimateTokens } from './body/token-estimate.js';
import { type CheckInput, type Decision, deny } from './decision.js';
import { ApiKeyStore } from './identity/api-keys.js';
import { CredentialError, type Identity } from './identity/identity.js';
import { JwksUnavailableError, JwtVerifier } from './identity/jwt.js';
import type { DispatchPolicy, Policy, RoutePolicy } from './policy.js';
import { type TokenQuota, TokenQuotaUnavailable } from './token-quota.js';
import { CredentialUnavailable, type UpstreamCredentials } from './upstream-credentials.js';

/** The value a descriptor entry gets when the request has none (as Envoy's metadata actions' default_value). */
const missingValue = 'unknown';

const realm = 'Bearer realm="ai-gateway"';
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Everything derived from one policy.yaml; rebuilt on every reload. */
export class PolicyRuntime {
  readonly keys: ApiKeyStore;
  readonly jwt: JwtVerifier;
  readonly personalData: PersonalDataDetector;

  constructor(
    readonly policy: Policy,
    readonly maxBodyBytes: number,
  ) {
    this.keys = new ApiKeyStore(policy.clients);
    this.jwt = new JwtVerifier(policy.jwt_providers);
    this.personalData = compilePersonalData(policy.personal_data);
  }

  close(): void {
    this.jwt.close();
  }
}

function modelAllowed(model: string, lists: string[][]): boolean {
  return lists.flat().some((p) => (p.endsWith('*') ? model.startsWith(p.slice(0, -1)) : p === model));
}

/** The one credential of the request, or why there is not exactly one. */
function credential(input: CheckInput, headers: string[]): { token?: string; problem?: string } {
  const found: string[] = [];
  for (const h of headers) {
    for (const raw of input.headers.get(h) ?? []) {
      let v = raw.trim();
      if (h === 'authorization') {
        const m = /^Bearer\s+(.+)$/i.exec(v);
        if (!m) return { problem: 'the authorization header must be "Bearer <key or token>"' };
        v = m[1].trim();
      }
      if (v.includes(',') || /\s/.test(v)) return { problem: 'several credentials in one header' };
      if (v) found.push(v);
    }
  }
  if (found.length === 0) return {};
  if (found.length > 1) return { problem: 'several credentials: send exactly one' };
  return { token: found[0] };
}

export class Checker {
  constructor(
    private readonly runtime: () => PolicyRuntime | undefined,
    private readonly credentials: UpstreamCredentials,
    private readonly now: () => number = Date.now,
    /** Charges token quotas; without it token limits are not enforced (main.ts warns). */
    private readonly tokenQuota?: TokenQuota,
  ) {}

  async check(input: CheckInput): Promise<Decision> {
    const rt = this.runtime();
    if (!rt) return deny(503, 'ext-authz has no policy loaded');
    // Own properties only: a policy named `constructor` or `__proto__` must not find Object's.
    const named =
      input.policy && Object.hasOwn(rt.policy.policies, input.policy) ? rt.policy.policies[input.policy] : undefined;
    if (!named) return deny(403, input.policy ? `unknown policy "${input.policy}"` : 'the route names no policy');

    let body: Record<string, unknown> | undefined;
    const readBody = (): Decision | undefined => {
      if (body) return undefined;
      if (!input.body || input.body.length === 0) return deny(400, 'this route needs a JSON request body');
      const parsed = parseJsonBody(input.body, rt.maxBodyBytes);
      if (!parsed.ok) return deny(parsed.reason.includes('larger') ? 413 : 400, parsed.reason);
      body = parsed.value;
      return undefined;
    };

    // Dispatch: choose the member route from the body, then apply that route's policy.
    let route: RoutePolicy;
    const setHeaders: [string, string][] = [];
    let personalData: string[] | undefined;
    if ('dispatch' in named) {
      const problem = readBody();
      if (problem) return problem;
      const chosen = this.dispatch(named, body!, rt, setHeaders);
      if ('allow' in chosen) return chosen;
      route = chosen.route;
      personalData = chosen.personalData;
    } else route = named;

    // Who is calling.
    const identity = await this.identify(input, route, rt);
    if ('allow' in identity) return identity;

    // May they use this route?
    const a = route.auth;
    if (identity.id) {
      const id = identity.id;
      if (a.clients?.length && !a.clients.includes(id.client))
        return deny(403, `client "${id.client}" may not use this route`, who(id));
      if (a.tenants?.length && !a.tenants.includes(id.tenant))
        return deny(403, `tenant "${id.tenant}" may not use this route`, who(id));
      const missing = (a.scopes ?? []).filter((s) => !id.scopes.includes(s));
      if (id.kind === 'jwt' && missing.length) return deny(403, `missing scope ${missing.join(', ')}`, who(id));
    }

    // The body: model, personal data, tokens.
    let model: string | undefined;
    let tokens: number | undefined;
    const sendsBody = ['POST', 'PUT', 'PATCH'].includes(input.method.toUpperCase());
    if (route.inspect_body && (sendsBody || (input.body && input.body.length > 0))) {
      // Fail closed: a route whose checks read the body cannot be decided without it.
      const problem = readBody();
      if (problem) return problem;
    }
    if (body) {
      if (route.model_field) {
        const m = topLevelString(body, route.model_field);
        if (!m.ok) return deny(400, m.reason);
        model = m.value;
      }
      tokens = estimateTokens(body).total;
      if (route.personal_data === 'deny') {
        const found = personalData ?? rt.personalData.detectInBody(body);
        if (found.length)
          return deny(
            403,
            `the request contains personal data (${found.join(', ')}); this route does not accept it`,
            who(identity.id),
          );
      }
    }
    // A client with a model list may use those models plus the ones the route serves to anybody.
    const clientModels = identity.id?.models ?? [];
    if (clientModels.length && route.model_field && body !== undefined) {
      if (model === undefined) return deny(400, `the JSON body needs a "${route.model_field}" field`, who(identity.id));
      if (!modelAllowed(model, [clientModels, route.models])) {
        return deny(403, `model "${model}" is not allowed for client "${identity.id!.client}"`, {
          ...who(identity.id),
          model,
        });
      }
    }

    // Token quotas, charged on the estimate before the request is sent.
    if (this.tokenQuota && route.token_limits.length && tokens) {
      const charged = await this.chargeTokens(rt, route, identity.id, model, input.sourceIp, tokens);
      if (charged) return { ...charged, ...who(identity.id), route: route.route, model, estimatedTokens: tokens };
    }

    // Allowed: tell the upstream who, and hand Envoy the provider keys.
    const h = rt.policy.headers;
    if (identity.id) {
      setHeaders.push([h.identity.client, identity.id.client], [h.identity.tenant, identity.id.tenant]);
    }
    if (model !== undefined) setHeaders.push([h.identity.model, model]);
    setHeaders.push([h.identity.route, route.route]);
    if (tokens !== undefined) setHeaders.push([h.estimated_tokens, String(tokens)]);
    for (const name of route.backends) {
      const backend = rt.policy.backends.find((b) => b.name === name);
      if (!backend) return deny(503, `backend "${name}" has no credential settings`);
      try {
        setHeaders.push([backend.forward_header, this.credentials.value(backend, this.now())]);
      } catch (e) {
        if (e instanceof CredentialUnavailable)
          return deny(503, `the provider credential of backend "${name}" is unavailable`);
        throw e;
      }
    }
    const set = new Set(setHeaders.map(([k]) => k));
    const removeHeaders = h.reserved.filter((r) => !set.has(r));
    if (identity.id) removeHeaders.push(...h.credentials.filter((c) => !set.has(c)));
    const metadata: Record<string, string | number> = { route: route.route };
    if (identity.id) Object.assign(metadata, { client: identity.id.client, tenant: identity.id.tenant });
    if (model !== undefined) metadata.model = model;
    if (tokens !== undefined) metadata.estimated_tokens = tokens;
    return {
      allow: true,
      status: 200,
      reason: 'allowed',
      setHeaders,
      removeHeaders,
      responseHeaders: [],
      metadata,
      client: identity.id?.client,
      tenant: identity.id?.tenant,
      route: route.route,
      model,
      estimatedTokens: tokens,
    };
  }

  /** A denial when a token quota is exceeded (or cannot be checked and on_error is deny). */
  private async chargeTokens(
    rt: PolicyRuntime,
    route: RoutePolicy,
    id: Identity | undefined,
    model: string | undefined,
    ip: string,
    tokens: number,
  ): Promise<Decision | undefined> {
    const values: Record<string, string | undefined> = { client: id?.client, tenant: id?.tenant, model, ip };
    const descriptors = route.token_limits.map((t) =>
      t.descriptor.map((e) => ({ key: e.key, value: e.value ?? (values[e.from ?? ''] || missingValue) })),
    );
    try {
      const r = await this.tokenQuota!.charge(rt.policy.domain, descriptors, tokens);
      if (!r.over) return undefined;
      return deny(429, `token quota exceeded (${r.exceeded}): this request is estimated at ${tokens} tokens`, {
        responseHeaders: r.headers,
      });
    } catch (e) {
      if (!(e instanceof TokenQuotaUnavailable)) throw e;
      return rt.policy.token_quota?.on_error === 'allow'
        ? undefined
        : deny(503, 'token quotas cannot be checked right now');
    }
  }

  private dispatch(
    p: DispatchPolicy,
    body: Record<string, unknown>,
    rt: PolicyRuntime,
    setHeaders: [string, string][],
  ): Decision | { route: RoutePolicy; personalData?: string[] } {
    const values: Record<string, string | undefined> = {};
    for (const f of p.dispatch.fields) {
      const v = topLevelString(body, f.field);
      if (!v.ok) return deny(400, v.reason);
      values[f.field] = v.value;
    }
    const personalData = p.dispatch.personal_data ? rt.personalData.detectInBody(body) : undefined;
    const member = p.dispatch.routes.find((m) => {
      for (const [field, accepted] of Object.entries(m.when.body ?? {})) {
        const v = values[field];
        if (v === undefined || !accepted.includes(v)) return false;
      }
      return m.when.personal_data === undefined || m.when.personal_data === (personalData?.length ?? 0) > 0;
    });
    if (!member) {
      const shown = Object.entries(values)
        .map(([k, v]) => `${k} "${v ?? ''}"`)
        .join(', ');
      return deny(404, `no route serves this request (${shown || 'no routing fields'})`);
    }
    const h = rt.policy.headers;
    setHeaders.push([h.dispatch, member.route]);
    for (const f of p.dispatch.fields) if (values[f.field] !== undefined) setHeaders.push([f.header, values[f.field]!]);
    if (personalData) setHeaders.push([h.personal_data, String(personalData.length > 0)]);
    return { route: rt.policy.policies[member.route] as RoutePolicy, personalData };
  }

  private async identify(
    input: CheckInput,
    route: RoutePolicy,
    rt: PolicyRuntime,
  ): Promise<Decision | { id?: Identity }> {
    const a = route.auth;
    if (a.anonymous) return {};
    const cred = credential(input, rt.policy.headers.credentials);
    if (cred.problem)
      return deny(401, cred.problem, { responseHeaders: [['www-authenticate', `${realm}, error="invalid_request"`]] });
    if (!cred.token)
      return deny(401, 'missing credentials: send an API key or a token', {
        responseHeaders: [['www-authenticate', realm]],
      });
    const token = cred.token;
    try {
      if (jwtShape.test(token) && a.jwt?.length) return { id: await rt.jwt.verify(token, a.jwt) };
      if (a.api_key) return { id: rt.keys.verify(token, this.now()) };
      throw new CredentialError(a.jwt?.length ? 'malformed token' : 'invalid API key');
    } catch (e) {
      if (e instanceof JwksUnavailableError) return deny(503, 'token signing keys are unavailable');
      if (e instanceof CredentialError) {
        return deny(401, e.reason, { responseHeaders: [['www-authenticate', `${realm}, error="invalid_token"`]] });
      }
      throw e;
    }
  }
}

function who(id: Identity | undefined): Partial<Decision> {
  return id ? { client: id.client, tenant: id.tenant } : {};
}
