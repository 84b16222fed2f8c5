import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialError } from './identity.js';
import { FileKeySource, isCredentialFault, JwksUnavailableError } from './jwks.js';
import { JwtVerifier } from './jwt.js';
import type { JwtProviderConfig } from './jwt-types.js';

let dir: string;
let privateKey: CryptoKey;
let jwk: JWK;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jwks-test-'));
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function replace(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

const header = { alg: 'ES256', kid: 'k1' };
const token = { protected: '', payload: '', signature: '' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FileKeySource', () => {
  it('keeps the last good key set when the file turns bad, and reloads when it is good again', async () => {
    const path = join(dir, 'last-good.json');
    await replace(path, JSON.stringify({ keys: [jwk] }));
    const src = new FileKeySource('corp', path, 10);
    const key = await src.resolve(header, token);
    expect(key.type).toBe('public');

    await replace(path, '{"keys": [ half-writ');
    await sleep(20);
    await expect(src.resolve(header, token)).resolves.toBe(key);

    await rm(path);
    await sleep(20);
    await expect(src.resolve(header, token)).resolves.toBe(key);

    const other = {
      ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)),
      kid: 'k1',
    };
    await replace(path, JSON.stringify({ keys: [other] }));
    await sleep(20);
    const reloaded = await src.resolve(header, token);
    expect(reloaded).not.toBe(key);
  });

  it('concurrent first uses all wait for the first read of the file', async () => {
    const path = join(dir, 'concurrent.json');
    await replace(path, JSON.stringify({ keys: [jwk] }));
    const src = new FileKeySource('corp', path, 60_000);
    const keys = await Promise.all(Array.from({ length: 20 }, () => src.resolve(header, token)));
    expect(keys.every((k) => k.type === 'public')).toBe(true);
  });

  it('fails as a fault before any good read, with the reason for our logs', async () => {
    const src = new FileKeySource('corp', join(dir, 'absent.json'), 10);
    const err = await src.resolve(header, token).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JwksUnavailableError);
    expect(err).toBeInstanceOf(CredentialError);
    expect(isCredentialFault(err)).toBe(true);
    expect((err as JwksUnavailableError).reason).toBe('signing keys unavailable');
    expect((err as JwksUnavailableError).detail).toMatch(/ENOENT/);
    expect(isCredentialFault(new CredentialError('token expired'))).toBe(false);
  });

  it('reports a key that cannot be imported as a fault, not as a bad token', async () => {
    const path = join(dir, 'bad-key.json');
    await replace(path, JSON.stringify({ keys: [{ ...jwk, x: 'AAAA' }] }));
    const v = new JwtVerifier([provider(path)]);
    const t = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ iss: 'https://iss.test', aud: 'a', exp: t + 60, azp: 'c' })
      .setProtectedHeader(header)
      .sign(privateKey);
    const err = await v.verify(jwt, ['corp']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(JwksUnavailableError);

    await replace(path, JSON.stringify({ keys: [jwk] }));
    const v2 = new JwtVerifier([provider(path)]);
    await expect(v2.verify(jwt, ['corp'])).resolves.toMatchObject({ client: 'c', tenant: '', scopes: [] });
  });
});

function provider(file: string): JwtProviderConfig {
  return {
    name: 'corp',
    issuer: 'https://iss.test',
    audiences: ['a'],
    algorithms: ['ES256'],
    jwks: { file, cache_seconds: 60 },
    claims: { client: 'azp', tenant: 'tid', scopes: 'scope' },
    clock_skew_seconds: 0,
  };
}
