import { describe, expect, it } from 'vitest';
import { ApiKeyStore, apiKeyPrefix, expiryMs, keyDigest, newApiKey } from './api-keys.js';
import { CredentialError } from './identity.js';

describe('API keys', () => {
  it('makes high-entropy keys with a recognisable prefix', () => {
    const keys = new Set(Array.from({ length: 200 }, newApiKey));
    expect(keys.size).toBe(200);
    for (const k of keys) expect(k).toMatch(/^aigw_[0-9A-Za-z]{43}$/);
    expect(apiKeyPrefix).toBe('aigw_');
  });

  const key = newApiKey();
  const store = new ApiKeyStore([
    {
      name: 'app',
      tenant: 'hr',
      models: ['m1'],
      keys: [{ sha256: keyDigest(key) }, { sha256: keyDigest('aigw_old'), expires: '2026-01-31' }],
    },
  ]);

  it('finds the client by digest', () => {
    expect(store.verify(key, Date.UTC(2026, 0, 1))).toEqual({
      kind: 'api_key',
      client: 'app',
      tenant: 'hr',
      scopes: [],
      models: ['m1'],
    });
  });

  it('rejects unknown, altered and expired keys', () => {
    expect(() => store.verify(`${key}x`, 0)).toThrow(new CredentialError('invalid API key'));
    expect(() => store.verify(key.toUpperCase(), 0)).toThrow(CredentialError);
    expect(store.verify('aigw_old', Date.UTC(2026, 0, 31, 23, 59)).client).toBe('app');
    expect(() => store.verify('aigw_old', Date.UTC(2026, 1, 1))).toThrow(new CredentialError('API key expired'));
  });

  it('reads a date as valid through that day (UTC), a timestamp as that instant', () => {
    expect(expiryMs('2027-01-31')).toBe(Date.UTC(2027, 1, 1));
    expect(expiryMs('2027-01-31T12:00:00Z')).toBe(Date.UTC(2027, 0, 31, 12));
    expect(expiryMs(undefined)).toBeUndefined();
  });
});
