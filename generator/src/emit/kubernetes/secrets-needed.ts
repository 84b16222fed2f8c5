// The Kubernetes Secrets the manifests mount or read, which the operator creates (the manifests
// never contain a Secret, nor any secret value): provider keys of backends whose credential is a
// `secret:` (mounted into ext-authz), and the Redis password when it is a `secret:`.
import type { GatewayModel } from '../../model/types.js';

export interface NeededSecret {
  name: string;
  /** Keys, sorted. */
  keys: string[];
  /** What each key is for, in the order of `keys`. */
  purposes: string[];
}

/** Backend credentials held in Kubernetes Secrets: secret → key → backends, sorted. */
export function backendSecretKeys(model: GatewayModel): { secret: string; key: string; backends: string[] }[] {
  const byRef = new Map<string, { secret: string; key: string; backends: string[] }>();
  for (const b of model.backends) {
    const s = b.credential?.source;
    if (s?.kind !== 'secret') continue;
    const id = `${s.name}\0${s.key}`;
    const entry = byRef.get(id) ?? { secret: s.name, key: s.key, backends: [] };
    entry.backends.push(b.name);
    byRef.set(id, entry);
  }
  return [...byRef.values()].sort((a, b) => a.secret.localeCompare(b.secret) || a.key.localeCompare(b.key));
}

/** The Redis password's Secret, when the password is a `secret:`. */
export function redisPasswordSecret(model: GatewayModel): { name: string; key: string } | undefined {
  const p = model.services.redis.password;
  return p?.kind === 'secret' ? { name: p.name, key: p.key } : undefined;
}

export function neededSecrets(model: GatewayModel): NeededSecret[] {
  const keys = new Map<string, Map<string, string[]>>();
  const add = (name: string, key: string, purpose: string) => {
    const k = keys.get(name) ?? new Map<string, string[]>();
    k.set(key, [...(k.get(key) ?? []), purpose]);
    keys.set(name, k);
  };
  for (const s of backendSecretKeys(model)) {
    add(s.secret, s.key, `provider key of backend ${s.backends.join(', ')} (mounted into ext-authz)`);
  }
  const redis = redisPasswordSecret(model);
  if (redis) {
    add(
      redis.name,
      redis.key,
      `Redis password (REDIS_PASSWORD of the rate-limit service${model.services.redis.inCluster ? ' and of the in-cluster Redis' : ''})`,
    );
  }
  return [...keys.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, k]) => {
      const sorted = [...k.keys()].sort();
      return { name, keys: sorted, purposes: sorted.map((key) => k.get(key)!.join('; ')) };
    });
}

/**
 * One `kubectl create secret generic` line per Secret the manifests reference, with `<value>`
 * placeholders (a shell refuses the line until each one is replaced, so it never creates a Secret
 * holding the placeholder).
 */
export function secretCommands(model: GatewayModel): string[] {
  return neededSecrets(model).map(
    (s) =>
      `kubectl -n ${model.namespace} create secret generic ${s.name} ${s.keys.map((k) => `--from-literal=${k}=<value>`).join(' ')}`,
  );
}
