// Kong consumers: one per API-key client (ACL groups: its name and `tenant:<tenant>`), one per
// JWT provider (every token of a provider is that consumer), and the anonymous consumer of routes
// that take API keys or JWTs. Credentials are named, never written: Kong needs each API key in
// plain text, which gateway.yaml does not hold (only SHA-256 digests), so the operator supplies it.
import type { GatewayModel } from '../../model/types.js';
import { aclGroups, kongNames } from './names.js';
import type { KongRoute } from './types.js';

export interface CredentialPlan {
  /** Kubernetes Secret name (the KongConsumer lists it; the operator creates it). */
  secret: string;
  type: 'key-auth' | 'acl' | 'jwt';
  /** The Secret's fields; values in angle brackets are for the operator to fill in. */
  fields: Record<string, string>;
  /** Said beside the kubectl line (e.g. an expiry date). */
  note?: string;
}

export interface ConsumerPlan {
  /** KongConsumer object name. */
  object: string;
  username: string;
  groups: string[];
  credentials: CredentialPlan[];
  /** What the consumer stands for, for the README. */
  about: string;
}

const acl = (secret: string, group: string): CredentialPlan => ({ secret, type: 'acl', fields: { group } });

export function consumerPlans(model: GatewayModel, routes: KongRoute[]): ConsumerPlan[] {
  const gw = model.name;
  const out: ConsumerPlan[] = model.clients.map((c) => ({
    object: kongNames.clientConsumer(gw, c.name),
    username: c.name,
    groups: [aclGroups.client(c.name), aclGroups.tenant(c.tenant)],
    about: `API-key client, tenant ${c.tenant}`,
    credentials: [
      ...c.keys.map(
        (k, i): CredentialPlan => ({
          secret: kongNames.keySecret(gw, c.name, i + 1),
          type: 'key-auth',
          fields: { key: `<${c.name} key ${i + 1}: the plaintext key whose SHA-256 is ${k.sha256.slice(0, 12)}…>` },
          ...(k.expires ? { note: `expires ${k.expires}: delete this Secret then` } : {}),
        }),
      ),
      acl(kongNames.aclSecret(gw, c.name, 'client'), aclGroups.client(c.name)),
      acl(kongNames.aclSecret(gw, c.name, 'tenant'), aclGroups.tenant(c.tenant)),
    ],
  }));
  for (const p of model.jwtProviders) {
    const username = kongNames.jwtConsumer(gw, p.name);
    out.push({
      object: username,
      username,
      groups: [aclGroups.jwt(p.name)],
      about: `every user of JWT provider ${p.name} (tokens with iss ${p.issuer})`,
      credentials: [
        {
          secret: kongNames.jwtSecret(gw, p.name),
          type: 'jwt',
          fields: {
            key: p.issuer,
            algorithm: p.algorithms[0],
            rsa_public_key: `<the provider's current public key, PEM, from ${p.jwks.url ?? p.jwks.file}>`,
          },
        },
        acl(kongNames.aclSecret(gw, `jwt-${p.name}`, 'provider'), aclGroups.jwt(p.name)),
      ],
    });
  }
  const anonymous = kongNames.anonymousConsumer(gw);
  const usesAnonymous = routes.some((k) => k.plugins.some((p) => p.config.anonymous === anonymous));
  if (usesAnonymous) {
    out.push({
      object: anonymous,
      username: anonymous,
      groups: [],
      credentials: [],
      about: 'requests without a valid API key or JWT on routes that take either; in no ACL group, so refused (403)',
    });
  }
  return out;
}
