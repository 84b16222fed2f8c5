// Every name that one generated file uses to refer to something in another: Envoy listeners,
// clusters and routes, the headers ext-authz sets, the metadata keys rate-limit actions read,
// and the descriptor keys of the rate-limit config. One place, so the outputs always agree.
import type { LimitKey } from '../model/types.js';

export const clusterNames = {
  extAuthz: 'ext_authz',
  ratelimit: 'ratelimit',
  admin: 'envoy_admin',
  backend: (backend: string) => `backend_${backend}`,
  /** Backend names never contain "_", so the chain is unambiguous. */
  failover: (chain: string[]) => `failover_${chain.join('_')}`,
};

export const listenerName = (listener: string) => `listener_${listener}`;
export const routeConfigName = (listener: string) => `routes_${listener}`;
export const virtualHostName = (listener: string) => `vhost_${listener}`;
export const dispatchRouteName = (group: string) => `dispatch_${group}`;

/** The policy key a route's ext_authz context_extensions carry, and its values. */
export const policyContextKey = 'policy';
export const routePolicyName = (route: string) => route;
export const dispatchPolicyName = (group: string) => `dispatch/${group}`;

/** Headers that only the gateway may set: removed from every client request before routing. */
export const headerPrefix = 'x-aigw-';
export const identityHeaders = {
  client: 'x-aigw-client',
  tenant: 'x-aigw-tenant',
  model: 'x-aigw-model',
  route: 'x-aigw-route',
};
export const dispatchHeader = 'x-aigw-dispatch';
export const personalDataHeader = 'x-aigw-personal-data';
export const estimatedTokensHeader = 'x-aigw-estimated-tokens';
export const bodyFieldHeader = (field: string) => `x-aigw-body-${field.toLowerCase().replace(/_/g, '-')}`;
export const credentialHeader = (backend: string) => `x-aigw-credential-${backend}`;

/** ext-authz's dynamic metadata namespace in Envoy, and the keys rate-limit actions read. */
export const authzMetadataNamespace = 'envoy.filters.http.ext_authz';
export const authzMetadataKeys: Record<Exclude<LimitKey, 'ip' | 'route'>, string> = {
  client: 'client',
  tenant: 'tenant',
  model: 'model',
};

/** Rate-limit descriptor keys: the first entry names the limit, then one entry per counted key. */
export const limitDescriptorKey = 'limit';
export const descriptorKeys: Record<LimitKey, string> = {
  ip: 'remote_address',
  client: 'client',
  tenant: 'tenant',
  route: 'route',
  model: 'model',
};
/** Value used when ext-authz set no value (e.g. no model on the request), so the limit still counts. */
export const missingValue = 'unknown';

/** Where a Kubernetes Secret holding a backend credential is mounted in the ext-authz pod. */
export const secretMountPath = (secret: string, key: string) => `/var/run/secrets/ai-gateway/${secret}/${key}`;
