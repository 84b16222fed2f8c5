// Every name the Kong outputs use for one another: Kubernetes objects, Kong entities, consumer
// groups, credential Secrets and vault references. One place, so plugins.yaml, consumers.yaml,
// ingress.yaml, backend-services.yaml and kong.yaml always agree.
import { createHash } from 'node:crypto';

/** Joins parts with "-"; a result longer than a DNS label (63) is cut and made unique with a hash. */
export function k8sName(...parts: (string | number)[]): string {
  const full = parts.join('-');
  if (full.length <= 63) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

export const kongNames = {
  /** Kubernetes Service (ExternalName) and Kong service of a backend. */
  service: (gateway: string, backend: string) => k8sName(gateway, 'backend', backend),
  /** Ingress and Kong route of a gateway route. */
  route: (gateway: string, route: string) => k8sName(gateway, route),
  plugin: (gateway: string, ...what: string[]) => k8sName(gateway, ...what),
  /** KongConsumer object of an API-key client (its username is the client's name). */
  clientConsumer: (gateway: string, client: string) => k8sName(gateway, 'client', client),
  /** The consumer every token of one JWT provider authenticates as (Kong's jwt plugin keys on `iss`). */
  jwtConsumer: (gateway: string, provider: string) => k8sName(gateway, 'jwt', provider),
  /** Consumer of a request that no auth plugin recognised, on routes that accept API keys or JWTs. */
  anonymousConsumer: (gateway: string) => k8sName(gateway, 'anonymous'),
  keySecret: (gateway: string, client: string, n: number) => k8sName(gateway, client, 'key', n),
  aclSecret: (gateway: string, consumer: string, which: string) => k8sName(gateway, consumer, 'acl', which),
  jwtSecret: (gateway: string, provider: string) => k8sName(gateway, 'jwt', provider, 'key'),
};

/** ACL groups: a client's name, its tenant, and one group per JWT provider. */
export const aclGroups = {
  client: (client: string) => client,
  tenant: (tenant: string) => `tenant:${tenant}`,
  jwt: (provider: string) => `jwt:${provider}`,
};

/** Headers Kong's key-auth reads the raw API key from. */
export const apiKeyHeaders = ['x-api-key', 'api-key'];

/** Headers a client may use for its own credential: never forwarded to a backend. */
export const clientCredentialHeaders = ['authorization', 'x-api-key', 'api-key'];

/**
 * A Kong vault reference to an environment variable of the Kong data plane. Kong's `env` vault
 * reads `{vault://env/aigw-credential-openai}` from AIGW_CREDENTIAL_OPENAI.
 */
export function envVault(name: string): { reference: string; variable: string } {
  return { reference: `{vault://env/${name}}`, variable: name.toUpperCase().replace(/-/g, '_') };
}

export const vaultNames = {
  /** The whole header value a backend expects (prefix included, e.g. `Bearer sk-…`). */
  credential: (backend: string) => envVault(`aigw-credential-${backend}`),
  redisPassword: () => envVault('aigw-redis-password'),
};

export const managedLabels = (gateway: string) => ({
  'app.kubernetes.io/managed-by': 'ai-gateway-kit',
  'app.kubernetes.io/part-of': gateway,
});

export const ingressClass = 'kong';
