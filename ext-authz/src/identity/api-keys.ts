// API keys: stored only as SHA-256 digests, looked up by digest, compared in constant time.
// Keys look like `aigw_<43 base62 characters>` (~256 bits); `gen key create` makes them.
import { createHash, randomBytes } from 'node:crypto';
import { CredentialError, type Identity } from './identity.js';
import { constantTimeEqual, sha256 } from './sha256.js';

export const apiKeyPrefix = 'aigw_';
const base62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function newApiKey(): string {
  let out = '';
  // Rejection sampling keeps every character uniform.
  while (out.length < 43) {
    for (const b of randomBytes(64)) {
      if (b < 248 && out.length < 43) out += base62[b % 62];
    }
  }
  return apiKeyPrefix + out;
}

export function keyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

interface KeyEntry {
  /** Lower-case hex, as keyDigest writes it. */
  digest: string;
  client: string;
  tenant: string;
  models: string[];
  /** ms since epoch; undefined: never expires. */
  expiresMs?: number;
}

/** "2027-01-31" means through that day (UTC); a full timestamp means that instant. */
export function expiryMs(expires: string | undefined): number | undefined {
  if (!expires) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(expires)) return Date.parse(`${expires}T00:00:00Z`) + 86_400_000;
  return Date.parse(expires);
}

export class ApiKeyStore {
  private readonly byDigest = new Map<string, KeyEntry>();

  constructor(
    clients: { name: string; tenant: string; models: string[]; keys: { sha256: string; expires?: string }[] }[],
  ) {
    for (const c of clients) {
      for (const k of c.keys) {
        this.byDigest.set(k.sha256, {
          digest: k.sha256,
          client: c.name,
          tenant: c.tenant,
          models: c.models,
          expiresMs: expiryMs(k.expires),
        });
      }
    }
  }

  verify(key: string, nowMs: number): Identity {
    if (key.length > 512) throw new CredentialError('invalid API key');
    const digest = sha256(key, 'hex');
    const entry = this.byDigest.get(digest);
    if (!entry || !constantTimeEqual(entry.digest, digest)) throw new CredentialError('invalid API key');
    if (entry.expiresMs !== undefined && nowMs >= entry.expiresMs) throw new CredentialError('API key expired');
    return { kind: 'api_key', client: entry.client, tenant: entry.tenant, scopes: [], models: entry.models };
  }
}
