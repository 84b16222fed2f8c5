// Route auth with Kong's own plugins: key-auth for API keys (raw key in x-api-key / api-key),
// jwt per provider (Kong keys a token on its `iss` claim to one consumer), and acl for which
// clients, tenants and providers a route admits. A route that takes API keys and JWTs runs both
// plugins with an anonymous fallback, and acl refuses the anonymous consumer (Kong's "or").
import type { GatewayModel, Route } from '../../model/types.js';
import { aclGroups, apiKeyHeaders, kongNames } from './names.js';
import type { Gap, PluginInstance } from './types.js';

const either = (r: Route) => r.auth.apiKey && r.auth.jwt.length > 0;
const restricted = (r: Route) => r.auth.clients.length > 0 || r.auth.tenants.length > 0;

function keyAuth(model: GatewayModel, r: Route): PluginInstance {
  const config: Record<string, unknown> = {
    key_names: apiKeyHeaders,
    key_in_header: true,
    key_in_query: false,
    key_in_body: false,
    hide_credentials: true,
  };
  if (either(r)) config.anonymous = kongNames.anonymousConsumer(model.name);
  return { name: kongNames.plugin(model.name, either(r) ? 'key-auth-or-jwt' : 'key-auth'), plugin: 'key-auth', config };
}

function jwt(model: GatewayModel, r: Route): PluginInstance {
  const config: Record<string, unknown> = {
    key_claim_name: 'iss',
    claims_to_verify: ['exp'],
    header_names: ['authorization'],
    uri_param_names: [],
    cookie_names: [],
  };
  if (either(r)) config.anonymous = kongNames.anonymousConsumer(model.name);
  return { name: kongNames.plugin(model.name, either(r) ? 'jwt-or-key-auth' : 'jwt'), plugin: 'jwt', config };
}

/** ACL groups a route admits; undefined when every authenticated consumer may use it. */
function allowedGroups(model: GatewayModel, r: Route): string[] | undefined {
  if (restricted(r)) return [...r.auth.clients.map(aclGroups.client), ...r.auth.tenants.map(aclGroups.tenant)];
  const otherProviders = r.auth.jwt.length > 0 && model.jwtProviders.some((p) => !r.auth.jwt.includes(p.name));
  if (!either(r) && !otherProviders) return undefined;
  return [
    ...(r.auth.apiKey ? model.clients.map((c) => aclGroups.client(c.name)) : []),
    ...r.auth.jwt.map(aclGroups.jwt),
  ];
}

export function authPlugins(model: GatewayModel, r: Route): PluginInstance[] {
  if (r.auth.anonymous) return [];
  const out: PluginInstance[] = [];
  if (r.auth.apiKey) out.push(keyAuth(model, r));
  if (r.auth.jwt.length) out.push(jwt(model, r));
  const allow = allowedGroups(model, r);
  if (allow) out.push({ name: kongNames.plugin(model.name, r.name, 'acl'), plugin: 'acl', config: { allow } });
  return out;
}

/** The API-key clients a route admits. */
export function admittedClients(model: GatewayModel, r: Route): GatewayModel['clients'] {
  if (r.auth.anonymous || !r.auth.apiKey) return [];
  if (!restricted(r)) return model.clients;
  return model.clients.filter((c) => r.auth.clients.includes(c.name) || r.auth.tenants.includes(c.tenant));
}

export function authGaps(model: GatewayModel, r: Route): Gap[] {
  if (r.auth.anonymous) return [];
  const gaps: Gap[] = [];
  const gap = (feature: string, why: string) => gaps.push({ route: r.name, feature, why });
  const clients = admittedClients(model, r);
  if (r.auth.apiKey) {
    gap(
      'API keys in Authorization: Bearer',
      `Kong's key-auth reads the raw key from the ${apiKeyHeaders.join(' or ')} header only; clients that send "Authorization: Bearer <key>" (OpenAI SDKs) must send it in x-api-key instead`,
    );
    const expiring = clients.flatMap((c) =>
      c.keys.flatMap((k, i) => (k.expires ? [`${c.name}'s key ${i + 1} after ${k.expires}`] : [])),
    );
    if (expiring.length) {
      gap(
        'API key expiry',
        `Kong's key-auth credentials have no end date: delete the Secret (or credential) of ${expiring.join(', ')}`,
      );
    }
    const limited = clients.filter((c) => c.models.length);
    if (r.modelField && limited.length) {
      gap(
        'per-client model lists',
        `Kong cannot read the model from the body: ${limited.map((c) => c.name).join(', ')} may ask for any model here`,
      );
    }
  }
  if (r.models.length) {
    gap(
      'route model list',
      `Kong cannot read the model from the body: any model is accepted, not only ${r.models.join(', ')}`,
    );
  }
  for (const name of r.auth.jwt) {
    const p = model.jwtProviders.find((x) => x.name === name)!;
    const source = p.jwks.url ? `fetch ${p.jwks.url}` : `read ${p.jwks.file}`;
    gap(
      `JWKS of JWT provider "${name}"`,
      `Kong OSS's jwt plugin checks a token with a public key stored as a jwt credential of consumer ${kongNames.jwtConsumer(
        model.name,
        name,
      )} (credential key = the iss claim ${p.issuer}) and cannot ${source}: add the key (${p.algorithms.join(
        ', ',
      )}) by hand as the README says and replace it when the provider rotates; audiences (${p.audiences.join(
        ', ',
      )}) are not checked and the ${p.claims.client}/${p.claims.tenant} claims name no client or tenant`,
    );
  }
  if (r.auth.jwt.length && r.auth.scopes.length) {
    gap(
      'JWT scopes',
      `Kong OSS's jwt plugin does not check scopes (${r.auth.scopes.join(', ')}): any valid token passes`,
    );
  }
  if (r.auth.jwt.length && restricted(r)) {
    gap(
      'client/tenant restriction for JWT users',
      "Kong knows a JWT user only as the provider's consumer, which has no client or tenant group: the acl plugin refuses every JWT user on this route",
    );
  }
  return gaps;
}
