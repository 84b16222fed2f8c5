// The decision pipeline: policy → (dispatch on the body) → credential → route access → body
// (model, personal data, token estimate) → headers and metadata for the upstream.
// Fails closed: anything unknown or unreadable is denied.

import { parseJsonBody, topLevelString } from './body/json-body.js';
import { compilePersonalData, type PersonalDataDetector } from './body/personal-data.js';
import { estimateTokens } from './body/token-estimate.js';
import { type CheckInput, type Decision, deny, detachInput } from './decision.js';
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

/** Why a request does not carry exactly one credential. */
class CredentialProblem {
  constructor(readonly reason: string) {}
}
const NOT_BEARER = new CredentialProblem('the authorization header must be "Bearer <key or token>"');
const SEVERAL_IN_ONE = new CredentialProblem('several credentials in one header');
const SEVERAL = new CredentialProblem('several credentials: send exactly one');
const BEARER = /^Bearer\s+(.+)$/i;
const SPACE = /\s/;

/**
 * The one credential of the request (undefined: none), or why there is not exactly one: a
 * malformed value anywhere is named before "several credentials".
 */
function credential(input: CheckInput, headers: string[]): string | CredentialProblem | undefined {
  let token: string | undefined;
  let several = false;
  for (const h of headers) {
    const values = input.headers.get(h);
    if (values === undefined) continue;
    for (const raw of values) {
      let v = raw.trim();
      if (h === 'authorization') {
        const m = BEARER.exec(v);
        if (!m) return NOT_BEARER;
        v = m[1].trim();
      }
      if (v.includes(',') || SPACE.test(v)) return SEVERAL_IN_ONE;
      if (!v) continue;
      if (token !== undefined) several = true;
      else token = v;
    }
  }
  return several ? SEVERAL : token;
}

/** Methods that send a body, in any case (as toUpperCase() compares them). */
const SENDS_BODY = /^(POST|PUT|PATCH)$/i;
const NOT_ASCII = /[^\x00-\x7f]/;
function sendsBody(method: string): boolean {
  if (SENDS_BODY.test(method)) return true;
  // toUpperCase() also maps a few non-ASCII letters to ASCII ones ("ſ" to "S"): a method that
  // reads as POST that way is one too (fail closed: its body is read), as it always was.
  return NOT_ASCII.test(method) && ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase());
}

/** What one check has found so far. */
class Check {
  readonly setHeaders: [string, string][] = [];
  /** The parsed JSON body, once read. */
  body: Record<string, unknown> | undefined = undefined;
  /** Personal data found by a dispatch that looked for it. */
  personalData: string[] | undefined = undefined;
  id: Identity | undefined = undefined;
  model: string | undefined = undefined;
  tokens: number | undefined = undefined;

  constructor(
    readonly input: CheckInput,
    readonly rt: PolicyRuntime,
    /** The route whose policy applies (a dispatch's member once chosen). */
    public route: RoutePolicy,
  ) {}
}

/** Parses the request's JSON body into c.body (once); a denial when it cannot. */
function readBody(c: Check): Decision | undefined {
  if (c.body) return undefined;
  const bytes = c.input.body;
  if (!bytes || bytes.length === 0) return deny(400, 'this route needs a JSON request body');
  const parsed = parseJsonBody(bytes, c.rt.maxBodyBytes);
  if (!parsed.ok) return deny(parsed.reason.includes('larger') ? 413 : 400, parsed.reason);
  c.body = parsed.value;
  return undefined;
}

export class Checker {
  constructor(
    private readonly runtime: () => PolicyRuntime | undefined,
    private readonly credentials: UpstreamCredentials,
    private readonly now: () => number = Date.now,
    /** Charges token quotas; without it token limits are not enforced (main.ts warns). */
    private readonly tokenQuota?: TokenQuota,
  ) {}

  /**
   * The decision on one request: at once when nothing needs waiting for (an API key, a JWT
   * verified before), a promise otherwise (a JWT to verify, a token quota to charge). Never throws:
   * a fault is a rejected promise.
   */
  check(input: CheckInput): Decision | Promise<Decision> {
    try {
      return this.start(input);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private start(input: CheckInput): Decision | Promise<Decision> {
    const rt = this.runtime();
    if (!rt) return deny(503, 'ext-authz has no policy loaded');
    // Own properties only: a policy named `constructor` or `__proto__` must not find Object's.
    const named =
      input.policy && Object.hasOwn(rt.policy.policies, input.policy) ? rt.policy.policies[input.policy] : undefined;
    if (!named) return deny(403, input.policy ? `unknown policy "${input.policy}"` : 'the route names no policy');

    // Dispatch: choose the member route from the body, then apply that route's policy (c.route
    // holds a dispatch policy only until then).
    const c = new Check(input, rt, named as RoutePolicy);
    if ('dispatch' in named) {
      const problem = readBody(c);
      if (problem) return problem;
      const chosen = this.dispatch(named, c.body!, rt, c.setHeaders);
      if ('allow' in chosen) return chosen;
      c.route = chosen.route;
      c.personalData = chosen.personalData;
    }

    // Who is calling (undefined: anonymous route). Only a JWT not verified before is waited for.
    const found = this.identify(input, c.route, rt);
    if (found instanceof Promise) {
      detachInput(input);
      return found.then((f) => this.authorize(c, f));
    }
    return this.authorize(c, found);
  }

  /** The rest of a check once the caller is known. */
  private authorize(c: Check, found: Identity | Decision | undefined): Decision | Promise<Decision> {
    if (found !== undefined && 'allow' in found) return found;
    const id: Identity | undefined = found;
    c.id = id;
    const { input, rt, route } = c;

    // May they use this route?
    const a = route.auth;
    if (id) {
      if (a.clients?.length && !a.clients.includes(id.client))
        return deny(403, `client "${id.client}" may not use this route`, who(id));
      if (a.tenants?.length && !a.tenants.includes(id.tenant))
        return deny(403, `tenant "${id.tenant}" may not use this route`, who(id));
      if (id.kind === 'jwt' && a.scopes?.length) {
        const missing = a.scopes.filter((s) => !id.scopes.includes(s));
        if (missing.length) return deny(403, `missing scope ${missing.join(', ')}`, who(id));
      }
    }

    // The body: model, personal data, tokens.
    if (route.inspect_body && (sendsBody(input.method) || (input.body && input.body.length > 0))) {
      // Fail closed: a route whose checks read the body cannot be decided without it.
      const problem = readBody(c);
      if (problem) return problem;
    }
    const body = c.body;
    if (body) {
      if (route.model_field) {
        const m = topLevelString(body, route.model_field);
        if (!m.ok) return deny(400, m.reason);
        c.model = m.value;
      }
      c.tokens = estimateTokens(body).total;
      if (route.personal_data === 'deny') {
        const found = c.personalData ?? rt.personalData.detectInBody(body);
        if (found.length)
          return deny(
            403,
            `the request contains personal data (${found.join(', ')}); this route does not accept it`,
            who(id),
          );
      }
    }
    const { model, tokens } = c;
    // A client with a model list may use those models plus the ones the route serves to anybody.
    if (id?.models.length && route.model_field && body !== undefined) {
      if (model === undefined) return deny(400, `the JSON body needs a "${route.model_field}" field`, who(id));
      if (!modelAllowed(model, [id.models, route.models])) {
        return deny(403, `model "${model}" is not allowed for client "${id.client}"`, { ...who(id), model });
      }
    }

    // Token quotas, charged on the estimate before the request is sent.
    if (this.tokenQuota && route.token_limits.length && tokens) {
      detachInput(input);
      return this.chargeTokens(rt, route, id, model, input.sourceIp, tokens).then((charged) =>
        charged ? { ...charged, ...who(id), route: route.route, model, estimatedTokens: tokens } : this.allow(c),
      );
    }
    return this.allow(c);
  }

  /** Allowed: tell the upstream who, and hand Envoy the provider keys. */
  private allow(c: Check): Decision {
    const { rt, route, id, model, tokens, setHeaders } = c;
    const h = rt.policy.headers;
    if (id) setHeaders.push([h.identity.client, id.client], [h.identity.tenant, id.tenant]);
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
    // Every reserved header we do not set is removed, and the client's credential headers.
    const removeHeaders: string[] = [];
    for (const r of h.reserved) if (!isSet(setHeaders, r)) removeHeaders.push(r);
    if (id) for (const name of h.credentials) if (!isSet(setHeaders, name)) removeHeaders.push(name);
    const metadata: Record<string, string | number> = { route: route.route };
    if (id) {
      metadata.client = id.client;
      metadata.tenant = id.tenant;
    }
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
      client: id?.client,
      tenant: id?.tenant,
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

  /** The caller's identity (undefined: the route is anonymous), or the denial; a promise while a JWT is verified. */
  private identify(
    input: CheckInput,
    route: RoutePolicy,
    rt: PolicyRuntime,
  ): Identity | Decision | undefined | Promise<Identity | Decision> {
    const a = route.auth;
    if (a.anonymous) return undefined;
    const token = credential(input, rt.policy.headers.credentials);
    if (token instanceof CredentialProblem)
      return deny(401, token.reason, {
        responseHeaders: [['www-authenticate', `${realm}, error="invalid_request"`]],
      });
    if (!token)
      return deny(401, 'missing credentials: send an API key or a token', {
        responseHeaders: [['www-authenticate', realm]],
      });
    try {
      if (jwtShape.test(token) && a.jwt?.length) {
        return rt.jwt.cached(token, a.jwt) ?? rt.jwt.verify(token, a.jwt).catch(credentialDenial);
      }
      if (a.api_key) return rt.keys.verify(token, this.now());
      throw new CredentialError(a.jwt?.length ? 'malformed token' : 'invalid API key');
    } catch (e) {
      return credentialDenial(e);
    }
  }
}

/** The denial for a credential that was not accepted (other errors are faults: rethrown). */
function credentialDenial(e: unknown): Decision {
  if (e instanceof JwksUnavailableError) return deny(503, 'token signing keys are unavailable');
  if (e instanceof CredentialError) {
    return deny(401, e.reason, { responseHeaders: [['www-authenticate', `${realm}, error="invalid_token"`]] });
  }
  throw e;
}

/** Whether `name` is among the headers set (a handful: a scan beats building a Set). */
function isSet(setHeaders: [string, string][], name: string): boolean {
  for (let i = 0; i < setHeaders.length; i++) if (setHeaders[i][0] === name) return true;
  return false;
}

function who(id: Identity | undefined): Partial<Decision> {
  return id ? { client: id.client, tenant: id.tenant } : {};
}
