// ext-authz's runtime config: identities (key digests, JWT providers), one policy per route and
// per dispatch group (named by the routes' context_extensions), backend credential references
// (never values) and the token descriptors it sends to the rate-limit service.
import type { GatewayModel, Limit, Route, SecretSource } from '../../model/types.js';
import { reservedHeaders } from '../envoy/reserved-headers.js';
import { needsBody } from '../envoy/routes.js';
import {
  bodyFieldHeader,
  credentialHeader,
  descriptorKeys,
  dispatchHeader,
  dispatchPolicyName,
  estimatedTokensHeader,
  identityHeaders,
  limitDescriptorKey,
  personalDataHeader,
  routePolicyName,
  secretMountPath,
} from '../names.js';

/** Where ext-authz reads a secret: a Kubernetes Secret is mounted as a file. */
function source(s: SecretSource): Record<string, string> {
  if (s.kind === 'secret') return { file: secretMountPath(s.name, s.key) };
  return s.kind === 'file' ? { file: s.path } : { env: s.name };
}

function chain(route: Route): string[] {
  const a = route.action;
  return a.kind === 'single' ? [a.backend, ...a.failover] : a.backends.map((b) => b.name);
}

function tokenLimits(route: Route, limits: Map<string, Limit>): Record<string, unknown>[] {
  return route.limits
    .map((n) => limits.get(n)!)
    .filter((l) => l.kind === 'tokens')
    .map((l) => ({
      limit: l.name,
      descriptor: [
        { key: limitDescriptorKey, value: l.name },
        ...l.per.map((k) =>
          k === 'route' ? { key: descriptorKeys.route, value: route.name } : { key: descriptorKeys[k], from: k },
        ),
      ],
    }));
}

function routePolicy(route: Route, model: GatewayModel, limits: Map<string, Limit>): Record<string, unknown> {
  const a = route.auth;
  return {
    route: route.name,
    auth: a.anonymous
      ? { anonymous: true }
      : { api_key: a.apiKey, jwt: a.jwt, clients: a.clients, tenants: a.tenants, scopes: a.scopes },
    models: route.models,
    ...(route.modelField ? { model_field: route.modelField } : {}),
    inspect_body: needsBody(route),
    personal_data: route.personalData,
    backends: chain(route).filter((b) => model.backends.some((x) => x.name === b && x.credential)),
    token_limits: tokenLimits(route, limits),
  };
}

export function authzPolicy(model: GatewayModel): Record<string, unknown> {
  const limits = new Map(model.limits.map((l) => [l.name, l]));
  const policies: Record<string, unknown> = {};
  const routesByName = new Map(model.routes.map((r) => [r.name, r]));
  for (const g of model.dispatchGroups) {
    policies[dispatchPolicyName(g.id)] = {
      dispatch: {
        fields: g.fields.map((f) => ({ field: f, header: bodyFieldHeader(f) })),
        personal_data: g.personalData,
        routes: g.members.map((name) => {
          const r = routesByName.get(name)!;
          const when: Record<string, unknown> = {};
          if (Object.keys(r.match.body).length) when.body = r.match.body;
          if (r.match.personalData !== undefined) when.personal_data = r.match.personalData;
          return { route: name, when };
        }),
      },
    };
  }
  for (const r of model.routes) policies[routePolicyName(r.name)] = routePolicy(r, model, limits);
  return {
    version: 1,
    domain: model.services.ratelimit.domain,
    headers: {
      identity: identityHeaders,
      dispatch: dispatchHeader,
      personal_data: personalDataHeader,
      estimated_tokens: estimatedTokensHeader,
      reserved: reservedHeaders(model),
      credentials: ['authorization', 'x-api-key', 'api-key'],
    },
    clients: model.clients.map((c) => ({ name: c.name, tenant: c.tenant, models: c.models, keys: c.keys })),
    jwt_providers: model.jwtProviders.map((p) => ({
      name: p.name,
      issuer: p.issuer,
      audiences: p.audiences,
      algorithms: p.algorithms,
      jwks: {
        ...(p.jwks.url ? { url: p.jwks.url } : { file: p.jwks.file }),
        cache_seconds: Math.round(p.jwks.cacheMs / 1000),
      },
      claims: p.claims,
      clock_skew_seconds: Math.round(p.clockSkewMs / 1000),
    })),
    backends: model.backends
      .filter((b) => b.credential)
      .map((b) => ({
        name: b.name,
        kind: b.kind,
        credential: { ...source(b.credential!.source), header: b.credential!.header, prefix: b.credential!.prefix },
        forward_header: credentialHeader(b.name),
      })),
    personal_data: model.personalData,
    token_quota: { on_error: model.services.ratelimit.onError },
    policies,
  };
}
