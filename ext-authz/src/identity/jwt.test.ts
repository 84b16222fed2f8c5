import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CredentialError } from './identity.js';
import {
  isCredentialFault,
  JwksUnavailableError,
  JwtVerifier,
  type JwtVerifierOptions,
  MAX_TOKEN_LENGTH,
} from './jwt.js';
import type { JwtProviderConfig } from './jwt-types.js';

const ISS = 'https://login.example.test/';
const AUD = 'llm-gateway';

interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function keyPair(alg: 'RS256' | 'RS384' | 'ES256', kid: string | undefined): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  if (kid) jwk.kid = kid;
  jwk.alg = alg;
  jwk.use = 'sig';
  return { privateKey, publicKey, jwk };
}

let rsa: KeyPair;
let rsa2: KeyPair;
let ec: KeyPair;
let attacker: KeyPair;

interface JwksServer {
  url: string;
  hits: number;
  setKeys(keys: JWK[]): void;
  setStatus(status: number, body?: string): void;
  close(): Promise<void>;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** Listens on 127.0.0.1, port 0; closed after the current test unless `keep`. */
async function listen(server: http.Server, keep = false): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  if (!keep) cleanups.push(close);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
}

async function startJwksServer(keys: JWK[], keep = false): Promise<JwksServer> {
  let body = JSON.stringify({ keys });
  let status = 200;
  const state = { hits: 0 };
  const server = http.createServer((_req, res) => {
    state.hits++;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  });
  const url = await listen(server, keep);
  return {
    url,
    get hits() {
      return state.hits;
    },
    setKeys(k) {
      body = JSON.stringify({ keys: k });
    },
    setStatus(s, b) {
      status = s;
      if (b !== undefined) body = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function provider(
  over: Partial<JwtProviderConfig> & { url?: string; file?: string; cache?: number },
): JwtProviderConfig {
  const { url, file, cache, ...rest } = over;
  return {
    name: 'corp',
    issuer: ISS,
    audiences: [AUD, 'other-aud'],
    algorithms: ['RS256', 'ES256'],
    jwks: { url, file, cache_seconds: cache ?? 300 },
    claims: { client: 'azp', tenant: 'tid', scopes: 'scope' },
    clock_skew_seconds: 30,
    ...rest,
  };
}

const nowSec = () => Math.floor(Date.now() / 1000);

interface SignOpts {
  key?: KeyPair;
  alg?: string;
  kid?: string | null;
  header?: Record<string, unknown>;
}

/** A token with good defaults; a claim set to undefined is left out. */
async function sign(claims: JWTPayload = {}, opts: SignOpts = {}): Promise<string> {
  const key = opts.key ?? rsa;
  const alg = opts.alg ?? (key.jwk.kty === 'EC' ? 'ES256' : 'RS256');
  const kid = opts.kid === null ? undefined : (opts.kid ?? key.jwk.kid);
  const t = nowSec();
  const payload: JWTPayload = {
    iss: ISS,
    aud: AUD,
    iat: t,
    exp: t + 600,
    azp: 'app-1',
    tid: 'tenant-a',
    scope: 'chat:write models:read',
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg, ...(kid ? { kid } : {}), ...opts.header }).sign(key.privateKey);
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

async function rejection(p: Promise<unknown>): Promise<CredentialError> {
  const r = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.v)}`);
  expect(r.e).toBeInstanceOf(CredentialError);
  return r.e as CredentialError;
}

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  [rsa, rsa2, ec, attacker] = await Promise.all([
    keyPair('RS256', 'rsa-1'),
    keyPair('RS256', 'rsa-2'),
    keyPair('ES256', 'ec-1'),
    keyPair('RS256', 'rsa-1'), // same kid as the real key
  ]);
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('JwtVerifier: security', () => {
  let v: JwtVerifier;
  let srv: JwksServer;
  let good: string;

  beforeAll(async () => {
    srv = await startJwksServer([rsa.jwk, ec.jwk], true);
    // The verified-token cache is off so that every call goes through the whole check.
    v = new JwtVerifier([provider({ url: srv.url })], { cacheMaxEntries: 0 });
    good = await sign();
    await v.verify(good, ['corp']);
  });
  afterAll(async () => {
    v.close();
    await srv.close();
  });

  /** Rejected with exactly `reason`, not a fault, never echoing the token; a good token still passes. */
  async function expectRejected(token: string, reason: string, verifier = v, names = ['corp']) {
    const err = await rejection(verifier.verify(token, names));
    expect(err.reason).toBe(reason);
    expect(err.message).toBe(reason);
    expect(isCredentialFault(err)).toBe(false);
    if (token.length > 3) {
      expect(`${err.message} ${err.stack} ${JSON.stringify(err)}`).not.toContain(token);
      expect(`${err.message} ${err.stack} ${JSON.stringify(err)}`).not.toContain(token.split('.')[1] || token);
    }
    await expect(verifier.verify(good, ['corp'])).resolves.toMatchObject({ client: 'app-1' });
  }

  it('accepts the well-formed token (control)', async () => {
    await expect(v.verify(good, ['corp'])).resolves.toMatchObject({ kind: 'jwt', client: 'app-1' });
  });

  it('rejects alg "none", even when "none" is pinned', async () => {
    const claims = { iss: ISS, aud: AUD, exp: nowSec() + 600, azp: 'app-1' };
    const none = `${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(claims)}.`;
    await expectRejected(none, 'algorithm not allowed');
    const pinsNone = new JwtVerifier([provider({ url: srv.url, algorithms: ['none', 'RS256'] })]);
    await expectRejected(none, 'algorithm not allowed', pinsNone);
    const noneSig = `${b64({ alg: 'none' })}.${b64(claims)}.${b64('x')}`;
    await expectRejected(noneSig, 'algorithm not allowed', pinsNone);
  });

  it('rejects HS256 signed with the RSA public key as the HMAC secret (HS/RS confusion), even when HS256 is pinned', async () => {
    const confused = new JwtVerifier([provider({ url: srv.url, algorithms: ['RS256', 'HS256', 'HS384', 'HS512'] })]);
    const secrets = [
      new TextEncoder().encode(await exportSPKI(rsa.publicKey)),
      new TextEncoder().encode(JSON.stringify(rsa.jwk)),
      new TextEncoder().encode(JSON.stringify({ keys: [rsa.jwk] })),
    ];
    for (const secret of secrets) {
      for (const alg of ['HS256', 'HS512']) {
        const t = nowSec();
        const token = await new SignJWT({ iss: ISS, aud: AUD, exp: t + 600, azp: 'admin' })
          .setProtectedHeader({ alg, kid: 'rsa-1' })
          .sign(secret);
        await expectRejected(token, 'algorithm not allowed', confused);
        await expectRejected(token, 'algorithm not allowed');
      }
    }
  });

  it('rejects RS384 when only RS256 is pinned', async () => {
    const rs384 = await keyPair('RS384', 'rsa-1');
    const token = await sign({}, { key: rs384, alg: 'RS384' });
    const rs256Only = new JwtVerifier([provider({ url: srv.url, algorithms: ['RS256'] })]);
    await expectRejected(token, 'algorithm not allowed', rs256Only);
    // ES256 is pinned for `v` but not for this one
    await expectRejected(await sign({}, { key: ec }), 'algorithm not allowed', rs256Only);
  });

  it('rejects a provider whose pinned list holds only forbidden or unknown algorithms', async () => {
    const nothing = new JwtVerifier([provider({ url: srv.url, algorithms: ['HS256', 'none', 'XX999'] })]);
    const err = await rejection(nothing.verify(good, ['corp']));
    expect(err.reason).toBe('algorithm not allowed');
  });

  it('rejects an expired token; accepts one expired within the clock skew', async () => {
    await expectRejected(await sign({ exp: nowSec() - 31 - 2 }), 'token expired');
    await expect(v.verify(await sign({ exp: nowSec() - 10 }), ['corp'])).resolves.toMatchObject({ client: 'app-1' });
  });

  it('rejects a token without exp', async () => {
    await expectRejected(await sign({ exp: undefined }), 'token has no exp claim');
    await expectRejected(await sign({ exp: 'tomorrow' as unknown as number }), 'malformed token');
  });

  it('rejects a token not yet valid; accepts one whose nbf is within the skew', async () => {
    await expectRejected(await sign({ nbf: nowSec() + 120 }), 'token not yet valid');
    await expect(v.verify(await sign({ nbf: nowSec() + 10 }), ['corp'])).resolves.toMatchObject({ client: 'app-1' });
  });

  it('rejects a wrong issuer, a missing one, and a provider the route does not allow', async () => {
    await expectRejected(await sign({ iss: 'https://evil.example/' }), 'wrong issuer');
    await expectRejected(await sign({ iss: `${ISS}x` }), 'wrong issuer');
    await expectRejected(await sign({ iss: undefined }), 'wrong issuer');
    await expectRejected(good, 'wrong issuer', v, ['someone-else']);
    await expectRejected(good, 'wrong issuer', v, []);
  });

  it('rejects a wrong or missing audience; accepts any configured one in an array', async () => {
    await expectRejected(await sign({ aud: 'another-api' }), 'wrong audience');
    await expectRejected(await sign({ aud: ['a', 'b'] }), 'wrong audience');
    await expectRejected(await sign({ aud: undefined }), 'wrong audience');
    await expect(v.verify(await sign({ aud: ['x', 'other-aud'] }), ['corp'])).resolves.toMatchObject({
      client: 'app-1',
    });
  });

  it('rejects an unknown kid without refetching during the cooldown', async () => {
    const before = srv.hits;
    await expectRejected(await sign({}, { key: rsa2 }), 'unknown signing key');
    await expectRejected(await sign({}, { key: rsa, kid: 'who-knows' }), 'unknown signing key');
    expect(srv.hits).toBe(before);
  });

  it('rejects a tampered payload', async () => {
    const [h, , s] = good.split('.');
    const p = b64({ iss: ISS, aud: AUD, exp: nowSec() + 600, azp: 'admin', tid: 'tenant-b' });
    await expectRejected(`${h}.${p}.${s}`, 'bad signature');
  });

  it('rejects a tampered signature', async () => {
    const [h, p, s] = good.split('.');
    const i = Math.floor(s.length / 2);
    const flipped = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    await expectRejected(`${h}.${p}.${flipped}`, 'bad signature');
    await expectRejected(`${h}.${p}.${s.slice(0, -8)}`, 'bad signature');
    await expectRejected(`${h}.${p}.`, 'bad signature');
  });

  it('rejects a token signed by another key under the real kid, even with the key embedded in the header', async () => {
    await expectRejected(await sign({}, { key: attacker }), 'bad signature');
    const embedded = await sign({}, { key: attacker, header: { jwk: attacker.jwk } });
    await expectRejected(embedded, 'bad signature');
    const jku = await sign({}, { key: attacker, kid: 'evil', header: { jku: 'http://127.0.0.1:1/jwks' } });
    await expectRejected(jku, 'unknown signing key');
  });

  it('rejects garbage as a malformed token', async () => {
    for (const g of ['a.b.c', '', '.', '..', 'a.b', 'not a token', `${b64('{')}.${b64('{}')}.x`, 'a.b.c.d.e']) {
      await expectRejected(g, 'malformed token');
    }
    await expectRejected(`${b64({ alg: 'RS256', kid: 'rsa-1' })}.${b64('[1,2]')}.abc`, 'malformed token');
    // a correctly signed token with a critical header we do not understand
    const t = nowSec();
    const crit = await new SignJWT({ iss: ISS, aud: AUD, exp: t + 600, azp: 'app-1' })
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1', crit: ['x-unknown'], 'x-unknown': 1 })
      .sign(rsa.privateKey, { crit: { 'x-unknown': true } });
    await expectRejected(crit, 'malformed token');
  });

  it('rejects anything longer than 16 KiB without parsing it', async () => {
    const before = srv.hits;
    const huge = 'x'.repeat(20 * 1024);
    const t0 = performance.now();
    await expectRejected(huge, 'malformed token');
    // even a correctly signed token, once past the limit
    const big = await sign({ pad: 'p'.repeat(MAX_TOKEN_LENGTH) });
    expect(big.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    await expectRejected(big, 'malformed token');
    const justUnder = await sign({ pad: 'p'.repeat(MAX_TOKEN_LENGTH / 2) });
    expect(justUnder.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    await expect(v.verify(justUnder, ['corp'])).resolves.toMatchObject({ client: 'app-1' });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(srv.hits).toBe(before);
  });

  it('rejects a token whose client claim is missing or not a string, or whose tenant or scopes are malformed', async () => {
    await expectRejected(await sign({ azp: undefined }), 'token has no azp claim');
    await expectRejected(await sign({ azp: '' }), 'token has no azp claim');
    await expectRejected(await sign({ azp: ['app-1'] }), 'token has no azp claim');
    await expectRejected(await sign({ tid: 7 }), 'token has a malformed tid claim');
    await expectRejected(await sign({ scope: 3 }), 'token has a malformed scope claim');
    await expectRejected(await sign({ scope: ['a', 1] }), 'token has a malformed scope claim');
  });

  it('reports JWKS server down as a fault, within the fetch timeout', async () => {
    const hang = http.createServer(() => {
      /* accepts, never answers */
    });
    const url = await listen(hang);
    const down = new JwtVerifier([provider({ url })], { fetchTimeoutMs: 300 });
    const t0 = performance.now();
    const err = await rejection(down.verify(good, ['corp']));
    const elapsed = performance.now() - t0;
    expect(err).toBeInstanceOf(JwksUnavailableError);
    expect(err.reason).toBe('signing keys unavailable');
    expect((err as JwksUnavailableError).fault).toBe(true);
    expect((err as JwksUnavailableError).provider).toBe('corp');
    expect((err as JwksUnavailableError).detail).toBe('fetch timed out');
    expect(isCredentialFault(err)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1500);
    // the rest of the process is unaffected
    await expect(v.verify(good, ['corp'])).resolves.toMatchObject({ client: 'app-1' });
  });

  it('reports a refused connection, a non-200 answer and a non-JWKS body as faults', async () => {
    const bad = await startJwksServer([]);
    const closedUrl = bad.url.replace(/:\d+\//, ':1/');
    const refused = new JwtVerifier([provider({ url: closedUrl })], { fetchTimeoutMs: 300 });
    expect(await rejection(refused.verify(good, ['corp']))).toBeInstanceOf(JwksUnavailableError);

    bad.setStatus(500, 'oops');
    const v500 = new JwtVerifier([provider({ url: bad.url })]);
    const e500 = await rejection(v500.verify(good, ['corp']));
    expect(e500).toBeInstanceOf(JwksUnavailableError);

    bad.setStatus(200, '{"keys": "nope"}');
    const vBad = new JwtVerifier([provider({ url: bad.url })]);
    expect(await rejection(vBad.verify(good, ['corp']))).toBeInstanceOf(JwksUnavailableError);

    bad.setStatus(200, 'not json');
    const vJunk = new JwtVerifier([provider({ url: bad.url })]);
    expect(await rejection(vJunk.verify(good, ['corp']))).toBeInstanceOf(JwksUnavailableError);
  });

  it('reports an RSA key under 2048 bits in the JWKS as a fault', async () => {
    // jose will not make such a key; node:crypto will
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = { ...(small.publicKey.export({ format: 'jwk' }) as JWK), kid: 'small', alg: 'RS256' };
    const srvSmall = await startJwksServer([jwk]);
    const vs = new JwtVerifier([provider({ url: srvSmall.url })]);
    const err = await rejection(vs.verify(await sign({}, { kid: 'small' }), ['corp']));
    expect(err).toBeInstanceOf(JwksUnavailableError);
    expect((err as JwksUnavailableError).detail).toMatch(/1024 bits/);
  });
});

describe('JwtVerifier: identities', () => {
  it('maps an RS256 token to an Identity (space-separated scopes)', async () => {
    const srv = await startJwksServer([rsa.jwk, ec.jwk]);
    const v = new JwtVerifier([provider({ url: srv.url })]);
    const id = await v.verify(await sign({ scope: ' chat:write  models:read chat:write ' }), ['corp']);
    expect(id).toEqual({
      kind: 'jwt',
      client: 'app-1',
      tenant: 'tenant-a',
      scopes: ['chat:write', 'models:read'],
      models: [],
      provider: 'corp',
    });
  });

  it('maps an ES256 token to an Identity (array scopes)', async () => {
    const srv = await startJwksServer([rsa.jwk, ec.jwk]);
    const v = new JwtVerifier([provider({ url: srv.url })]);
    const id = await v.verify(await sign({ scope: ['a', 'b'], azp: 'svc-2', tid: 't2' }, { key: ec }), ['corp']);
    expect(id).toEqual({
      kind: 'jwt',
      client: 'svc-2',
      tenant: 't2',
      scopes: ['a', 'b'],
      models: [],
      provider: 'corp',
    });
  });

  it('gives tenant "" and no scopes when those claims are missing', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier([provider({ url: srv.url })]);
    const id = await v.verify(await sign({ tid: undefined, scope: undefined }), ['corp']);
    expect(id).toMatchObject({ client: 'app-1', tenant: '', scopes: [] });
    // an inherited property is not a claim
    const v2 = new JwtVerifier([
      provider({ url: srv.url, claims: { client: 'azp', tenant: 'constructor', scopes: 'toString' } }),
    ]);
    await expect(v2.verify(await sign(), ['corp'])).resolves.toMatchObject({ tenant: '', scopes: [] });
  });

  it('picks the provider by issuer among the allowed ones', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const srvB = await startJwksServer([ec.jwk]);
    const v = new JwtVerifier([
      provider({ url: srv.url }),
      provider({
        name: 'partner',
        issuer: 'https://partner.test',
        url: srvB.url,
        claims: { client: 'sub', tenant: 'org', scopes: 'scp' },
      }),
    ]);
    const partnerToken = await sign(
      { iss: 'https://partner.test', sub: 'p-client', org: 'p-org', scp: 'x y' },
      { key: ec },
    );
    await expect(v.verify(partnerToken, ['corp', 'partner'])).resolves.toEqual({
      kind: 'jwt',
      client: 'p-client',
      tenant: 'p-org',
      scopes: ['x', 'y'],
      models: [],
      provider: 'partner',
    });
    expect(srv.hits).toBe(0);
    expect(srvB.hits).toBe(1);
    expect((await rejection(v.verify(partnerToken, ['corp']))).reason).toBe('wrong issuer');
  });

  it('prefers a fault over a token problem when providers share an issuer and none accepts', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const hang = http.createServer(() => {});
    const url = await listen(hang);
    const v = new JwtVerifier(
      [provider({ name: 'a', url: srv.url, audiences: ['aud-a'] }), provider({ name: 'b', url, audiences: ['aud-b'] })],
      { fetchTimeoutMs: 100 },
    );
    const err = await rejection(v.verify(await sign({ aud: 'aud-b' }), ['a', 'b']));
    expect(err).toBeInstanceOf(JwksUnavailableError);
    expect((err as JwksUnavailableError).provider).toBe('b');
  });

  it('tries providers sharing an issuer in order', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier([
      provider({ name: 'a', url: srv.url, audiences: ['aud-a'] }),
      provider({ name: 'b', url: srv.url, audiences: ['aud-b'] }),
    ]);
    await expect(v.verify(await sign({ aud: 'aud-b' }), ['a', 'b'])).resolves.toMatchObject({ provider: 'b' });
    expect((await rejection(v.verify(await sign({ aud: 'aud-c' }), ['a', 'b']))).reason).toBe('wrong audience');
  });

  it('accepts a token without kid when several keys fit, if one of them verifies it', async () => {
    const noKid1 = { ...rsa.jwk, kid: undefined };
    const noKid2 = { ...rsa2.jwk, kid: undefined };
    const srv = await startJwksServer([noKid1, noKid2]);
    const v = new JwtVerifier([provider({ url: srv.url })]);
    await expect(v.verify(await sign({}, { key: rsa2, kid: null }), ['corp'])).resolves.toMatchObject({
      client: 'app-1',
    });
    const err = await rejection(v.verify(await sign({}, { key: attacker, kid: null }), ['corp']));
    expect(err.reason).toBe('bad signature');
  });

  it('refuses unusable provider settings when built', () => {
    expect(() => new JwtVerifier([provider({})])).toThrow(/jwks.url or jwks.file is required/);
    expect(() => new JwtVerifier([provider({ url: 'http://x/', file: '/x' })])).toThrow(/not both/);
    expect(() => new JwtVerifier([provider({ url: 'not a url' })])).toThrow(/not a URL/);
    expect(() => new JwtVerifier([provider({ url: 'file:///etc/jwks.json' })])).toThrow(/http/);
    expect(() => new JwtVerifier([provider({ url: 'http://x/' }), provider({ url: 'http://y/' })])).toThrow(/twice/);
    expect(
      () => new JwtVerifier([provider({ url: 'http://x/', claims: { client: '', tenant: 't', scopes: 's' } })]),
    ).toThrow(/claims.client/);
  });
});

describe('JwtVerifier: remote JWKS rotation', () => {
  it('refetches on an unknown kid once the cooldown has passed, and accepts the new key', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier([provider({ url: srv.url, cache: 3600 })], { cacheMaxEntries: 0 });
    await v.verify(await sign(), ['corp']);
    expect(srv.hits).toBe(1);

    srv.setKeys([rsa2.jwk]); // the issuer rotates
    const rotated = await sign({}, { key: rsa2 });
    expect((await rejection(v.verify(rotated, ['corp']))).reason).toBe('unknown signing key');
    expect(srv.hits).toBe(1); // cooldown (30 s) respected

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 31_000);
    await expect(v.verify(rotated, ['corp'])).resolves.toMatchObject({ client: 'app-1' });
    expect(srv.hits).toBe(2);
    // the old key is gone with the new set
    expect((await rejection(v.verify(await sign(), ['corp']))).reason).toBe('unknown signing key');
  });

  it('refetches when the JWKS cache is older than cache_seconds', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier([provider({ url: srv.url, cache: 60 })], { cacheMaxEntries: 0 });
    await v.verify(await sign(), ['corp']);
    await v.verify(await sign({ azp: 'b' }), ['corp']);
    expect(srv.hits).toBe(1);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    await v.verify(await sign(), ['corp']);
    expect(srv.hits).toBe(2);
  });

  it('close() drops the fetched keys: the next use fetches again', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier([provider({ url: srv.url })]);
    const token = await sign();
    await v.verify(token, ['corp']);
    v.close();
    await expect(v.verify(token, ['corp'])).resolves.toMatchObject({ client: 'app-1' });
    expect(srv.hits).toBe(2);
  });
});

describe('JwtVerifier: verified-token cache', () => {
  let clock: number;
  const opts = (o: JwtVerifierOptions = {}): JwtVerifierOptions => ({ now: () => clock, ...o });

  it('serves a second verify of the same token without touching the JWKS, until exp', async () => {
    clock = Date.now();
    const srv = await startJwksServer([rsa.jwk]);
    // cache_seconds 0: jose refetches the JWKS on every use, so a hit count shows every real verification
    const v = new JwtVerifier([provider({ url: srv.url, cache: 0 })], opts());
    const exp = Math.floor(clock / 1000) + 120;
    const token = await sign({ exp });
    const fresh = await v.verify(token, ['corp']);
    const first = structuredClone(fresh);
    expect(srv.hits).toBe(1);
    // mutating what we got back does not change what the cache serves
    fresh.scopes.push('admin');
    fresh.client = 'someone';
    const second = await v.verify(token, ['corp']);
    expect(second).toEqual(first);
    expect(srv.hits).toBe(1);
    second.scopes.push('admin');
    second.client = 'someone';
    expect(await v.verify(token, ['corp'])).toEqual(first);

    clock = exp * 1000 - 1000; // 1 s before exp: still cached
    await v.verify(token, ['corp']);
    expect(srv.hits).toBe(1);

    clock = exp * 1000 + 10_000; // past exp, within the 30 s skew: verified again, still accepted
    await expect(v.verify(token, ['corp'])).resolves.toEqual(first);
    expect(srv.hits).toBe(2);

    clock = exp * 1000 + 31_000; // past exp + skew: rejected
    expect((await rejection(v.verify(token, ['corp']))).reason).toBe('token expired');
  });

  it('without the cache, every verify does the whole check (control)', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier([provider({ url: srv.url, cache: 0 })], { cacheMaxEntries: 0 });
    const token = await sign();
    await v.verify(token, ['corp']);
    await v.verify(token, ['corp']);
    expect(srv.hits).toBe(2);
  });

  it('rejects a cached token after exp even with no clock skew', async () => {
    clock = Date.now();
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier([provider({ url: srv.url, clock_skew_seconds: 0 })], opts());
    const exp = Math.floor(clock / 1000) + 5;
    const token = await sign({ exp });
    await v.verify(token, ['corp']);
    clock = exp * 1000;
    expect((await rejection(v.verify(token, ['corp']))).reason).toBe('token expired');
  });

  it('does not serve a cached token to a route that does not allow its provider', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier(
      [provider({ url: srv.url }), provider({ name: 'other', issuer: 'https://other.test', url: srv.url })],
      {},
    );
    const token = await sign();
    await v.verify(token, ['corp']);
    expect((await rejection(v.verify(token, ['other']))).reason).toBe('wrong issuer');
  });

  it('is a bounded LRU', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier([provider({ url: srv.url, cache: 0 })], { cacheMaxEntries: 2 });
    const [t1, t2, t3] = await Promise.all([sign({ azp: '1' }), sign({ azp: '2' }), sign({ azp: '3' })]);
    await v.verify(t1, ['corp']);
    await v.verify(t2, ['corp']);
    await v.verify(t1, ['corp']); // t1 most recent, t2 oldest
    expect(srv.hits).toBe(2);
    await v.verify(t3, ['corp']); // evicts t2
    expect(srv.hits).toBe(3);
    await v.verify(t1, ['corp']);
    await v.verify(t3, ['corp']);
    expect(srv.hits).toBe(3);
    await v.verify(t2, ['corp']);
    expect(srv.hits).toBe(4);
  });

  it('cached(): a token verified before, at once, while verify() would serve it from the cache; undefined otherwise', async () => {
    clock = Date.now();
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier(
      [provider({ url: srv.url }), provider({ name: 'other', issuer: 'https://other.test', url: srv.url })],
      opts(),
    );
    const exp = Math.floor(clock / 1000) + 120;
    const token = await sign({ exp });
    expect(v.cached(token, ['corp'])).toBeUndefined(); // never verified
    const verified = await v.verify(token, ['corp']);
    const hit = v.cached(token, ['corp', 'other']);
    expect(hit).toEqual(verified);
    hit!.scopes.push('admin'); // a copy, as verify() gives
    expect(v.cached(token, ['corp'])).toEqual(verified);
    expect(v.cached(token, ['other'])).toBeUndefined(); // not a provider of this route
    expect(v.cached(`${token}x`, ['corp'])).toBeUndefined();
    expect(v.cached('', ['corp'])).toBeUndefined();
    clock = exp * 1000; // at exp: no longer served, and dropped
    expect(v.cached(token, ['corp'])).toBeUndefined();
    clock = exp * 1000 - 1000;
    expect(v.cached(token, ['corp'])).toBeUndefined();
    expect(srv.hits).toBe(1);
  });

  it('close() drops cached tokens', async () => {
    const srv = await startJwksServer([rsa.jwk]);
    const v = new JwtVerifier([provider({ url: srv.url, cache: 0 })]);
    const token = await sign();
    await v.verify(token, ['corp']);
    v.close();
    await v.verify(token, ['corp']);
    expect(srv.hits).toBe(2);
  });
});

describe('JwtVerifier: JWKS file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jwt-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Atomic replace, as a config-map update or a careful deploy does it. */
  async function writeJwks(path: string, keys: JWK[] | string): Promise<void> {
    const tmp = `${path}.${process.hrtime.bigint()}.tmp`;
    await writeFile(tmp, typeof keys === 'string' ? keys : JSON.stringify({ keys }));
    await rename(tmp, path);
  }

  it('verifies with keys from a file and picks up a rotated file', async () => {
    const path = join(dir, 'rotate.json');
    await writeJwks(path, [ec.jwk]);
    const v = new JwtVerifier([provider({ file: path })], { cacheMaxEntries: 0, fileCheckIntervalMs: 50 });
    const oldToken = await sign({}, { key: ec });
    await expect(v.verify(oldToken, ['corp'])).resolves.toMatchObject({ client: 'app-1' });

    const newToken = await sign({}, { key: rsa2 });
    expect((await rejection(v.verify(newToken, ['corp']))).reason).toBe('unknown signing key');

    await writeJwks(path, [rsa2.jwk]);
    // an unknown kid makes the file be checked at once
    await expect(v.verify(newToken, ['corp'])).resolves.toMatchObject({ client: 'app-1' });
    // the removed key stops working at the next periodic check
    await new Promise((r) => setTimeout(r, 60));
    expect((await rejection(v.verify(oldToken, ['corp']))).reason).toBe('unknown signing key');
  });

  it('drops a key removed from the file at the next periodic check, not before', async () => {
    const path = join(dir, 'remove.json');
    await writeJwks(path, [ec.jwk, rsa2.jwk]);
    const v = new JwtVerifier([provider({ file: path })], { cacheMaxEntries: 0, fileCheckIntervalMs: 300 });
    const ecToken = await sign({}, { key: ec });
    await v.verify(ecToken, ['corp']);
    await writeJwks(path, [rsa2.jwk]); // ec-1 revoked
    await expect(v.verify(ecToken, ['corp'])).resolves.toMatchObject({ client: 'app-1' }); // not stat-ed yet
    await new Promise((r) => setTimeout(r, 350));
    expect((await rejection(v.verify(ecToken, ['corp']))).reason).toBe('unknown signing key');
    await expect(v.verify(await sign({}, { key: rsa2 }), ['corp'])).resolves.toMatchObject({ client: 'app-1' });
  });

  it('reports a missing or broken file as a fault, and recovers when it appears', async () => {
    const path = join(dir, 'later.json');
    const v = new JwtVerifier([provider({ file: path })], { fileCheckIntervalMs: 20 });
    const token = await sign();
    const e1 = await rejection(v.verify(token, ['corp']));
    expect(e1).toBeInstanceOf(JwksUnavailableError);
    expect((e1 as JwksUnavailableError).detail).toMatch(/ENOENT/);

    await writeJwks(path, '{"keys": [');
    await new Promise((r) => setTimeout(r, 30));
    expect(await rejection(v.verify(token, ['corp']))).toBeInstanceOf(JwksUnavailableError);

    await writeJwks(path, [rsa.jwk]);
    await new Promise((r) => setTimeout(r, 30));
    await expect(v.verify(token, ['corp'])).resolves.toMatchObject({ client: 'app-1' });
  });
});
