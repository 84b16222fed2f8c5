// Security suite for the decision pipeline, in-process: Checker + the exact CheckRequest /
// CheckResponse fields Envoy uses, on the example gateway's generated policy. Every case asserts
// the exact denial (status, reason where stable) and that legitimate traffic still passes
// afterwards. Every denial's client-facing/audit reason is checked for leaked keys or tokens.
//
// The example's JWT provider ("portal") is pointed at a JWKS file generated here: no network.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HeaderMapSchema } from '../../common/envoy-api/gen/envoy/config/core/v3/base_pb.js';
import {
  type CheckRequest,
  CheckRequestSchema,
  type CheckResponse,
  type OkHttpResponse,
  OkHttpResponseSchema,
} from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import { exampleKeys } from '../../test/fixtures/example-keys.js';
import { compileFile } from '../../test/support/compile-file.js';
import { type EnvoyRequest, envoyCheckRequest } from '../../test/support/envoy-check.js';
import { Checker, PolicyRuntime } from '../src/check.js';
import { checkInputFromEnvoy, envoyCheckResponse } from '../src/check-grpc.js';
import { checkInputFromWire } from '../src/check-wire.js';
import type { Decision } from '../src/decision.js';
import { type Policy, parsePolicy } from '../src/policy.js';
import { UpstreamCredentials } from '../src/upstream-credentials.js';

/** API-key expiry is judged at this instant (the Checker's clock). */
const NOW = Date.UTC(2026, 10, 21, 12);
const MAX_BODY = 262_144;
const ISS = 'https://login.example.internal/realms/staff';
const AUD = 'ai-gateway';
const KID = 'staff-signing-1';
const PROVIDER_SECRET = 'sk-provider-secret-never-leaks';
const SPOOF_SECRET = 'Bearer sk-attacker-chosen';

interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

let dir: string;
let policy: Policy;
let runtime: PolicyRuntime;
let checker: Checker;
let staff: KeyPair;
let attacker: KeyPair;
let publicPem: string;

async function keyPair(kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, publicKey, jwk };
}

beforeAll(async () => {
  [staff, attacker] = await Promise.all([keyPair(KID), keyPair(KID)]);
  publicPem = await exportSPKI(staff.publicKey);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authz-security-'));
  const jwksFile = path.join(dir, 'jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify({ keys: [staff.jwk] }));

  policy = parsePolicy(compileFile('examples/gateway.yaml').files.get('ext-authz/policy.yaml')!, 'policy.yaml');
  const portal = policy.jwt_providers.find((p) => p.name === 'portal')!;
  expect(portal).toMatchObject({ issuer: ISS, audiences: [AUD], algorithms: ['RS256'] });
  portal.jwks = { file: jwksFile, cache_seconds: 600 };
  policy.backends.find((b) => b.name === 'openai')!.credential = {
    env: 'OPENAI_KEY',
    header: 'authorization',
    prefix: 'Bearer ',
  };
  runtime = new PolicyRuntime(policy, MAX_BODY);
  checker = new Checker(
    () => runtime,
    new UpstreamCredentials({ OPENAI_KEY: PROVIDER_SECRET }),
    () => NOW,
  );
});

afterAll(() => {
  runtime?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Tokens

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

/** The claims of a good staff token (the verifier checks times against the real clock). */
function claims(over: JWTPayload = {}): JWTPayload {
  const t = nowS();
  return {
    iss: ISS,
    aud: AUD,
    iat: t,
    exp: t + 600,
    azp: 'staff-portal',
    department: 'finance',
    scope: 'chat embeddings',
    ...over,
  };
}

async function jwt(over: JWTPayload = {}, o: { key?: CryptoKey; kid?: string } = {}): Promise<string> {
  return new SignJWT(claims(over))
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: o.kid ?? KID })
    .sign(o.key ?? staff.privateKey);
}

/** Flips one base64url character in the middle of segment `i` (0 header, 1 payload, 2 signature). */
function flip(token: string, i: number): string {
  const parts = token.split('.');
  const s = parts[i];
  const at = Math.floor(s.length / 2);
  parts[i] = s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
  return parts.join('.');
}

// ---------------------------------------------------------------------------------------------
// Checking, with the leak guard on every denial

/** Every key and token this suite presents; no denial reason may contain one. */
const presented = new Set<string>(Object.values(exampleKeys));
let denialsChecked = 0;

function credentialPieces(headers: Record<string, string> | undefined): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (!['authorization', 'x-api-key', 'api-key'].includes(k.toLowerCase())) continue;
    const bare = v.replace(/^\s*bearer\s+/i, '');
    out.push(v, bare, ...bare.split(/[\s,]+/));
  }
  return out;
}

/** Strings a reason must not contain: the credentials, and the segments of any JWT among them. */
function secretsOf(extra: string[]): string[] {
  const all = [...presented, ...extra];
  const pieces = all.flatMap((s) => [s, ...(s.includes('.') ? s.split('.') : [])]);
  return [...new Set(pieces.filter((s) => s.length >= 12))];
}

function guardDenial(d: Decision, res: CheckResponse, extra: string[]): void {
  if (d.allow) return;
  denialsChecked++;
  const body = (res.httpResponse.value as { body?: string }).body ?? '';
  const texts = [d.reason, res.status?.message ?? '', body, ...d.responseHeaders.map(([, v]) => v)];
  for (const secret of secretsOf(extra)) {
    for (const t of texts) {
      if (t.includes(secret)) {
        throw new Error(`denial "${d.reason}" leaks a presented credential (${secret.slice(0, 24)}…)`);
      }
    }
  }
}

interface Outcome {
  res: CheckResponse;
  decision: Decision;
  ms: number;
}

async function decide(req: CheckRequest, credentialHints: string[] = []): Promise<Outcome> {
  const t0 = performance.now();
  const decision = await checker.check(checkInputFromEnvoy(req));
  const ms = performance.now() - t0;
  const res = envoyCheckResponse(decision);
  guardDenial(decision, res, credentialHints);
  return { res, decision, ms };
}

async function check(r: EnvoyRequest): Promise<CheckResponse> {
  const pieces = credentialPieces(r.headers);
  for (const p of pieces) if (p.length >= 12 && p.length <= 20_000) presented.add(p);
  return (await decide(envoyCheckRequest(r), pieces)).res;
}

function ok(res: CheckResponse): OkHttpResponse {
  expect(res.status?.code, res.status?.message).toBe(0);
  expect(res.httpResponse.case).toBe('okResponse');
  return res.httpResponse.value as OkHttpResponse;
}

const rpcCode: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 413: 3 };

/** Asserts a denial with exactly `status` (and `reason` when given); returns the reason. */
function denied(res: CheckResponse, status: number, reason?: string | RegExp): string {
  expect(res.httpResponse.case, `expected a ${status} denial`).toBe('deniedResponse');
  const d = res.httpResponse.value as {
    status?: { code: number };
    headers: { header?: { key: string; value: string } }[];
    body: string;
  };
  expect(d.status?.code).toBe(status);
  expect(res.status?.code).toBe(rpcCode[status]);
  const message = JSON.parse(d.body).error.message as string;
  expect(res.status?.message).toBe(message);
  if (typeof reason === 'string') expect(message).toBe(reason);
  else if (reason) expect(message).toMatch(reason);
  if (status === 401) {
    const www = d.headers.find((h) => h.header?.key === 'www-authenticate')?.header?.value;
    expect(www).toMatch(/^Bearer realm="ai-gateway"/);
  }
  return message;
}

const headersOf = (o: OkHttpResponse) => Object.fromEntries(o.headers.map((h) => [h.header!.key, h.header!.value]));
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const chatBody = (model = 'gpt-4o', content = 'Summarise our Q3 plan.') => ({
  model,
  messages: [{ role: 'user', content }],
  max_tokens: 100,
});
const chat = (headers: Record<string, string>, body: EnvoyRequest['body'] = chatBody()): EnvoyRequest => ({
  path: '/v1/chat/completions',
  policy: 'dispatch/chat-personal-data',
  headers,
  body,
});
const execute = (headers: Record<string, string>): EnvoyRequest => ({
  path: '/execute',
  policy: 'dispatch/execute-research',
  headers,
  body: { agent_type: 'research', task: 'x' },
});

/** Legitimate traffic of every kind still gets through, with the right identity. */
async function stillServes(): Promise<void> {
  const byKey = headersOf(ok(await check(chat(bearer(exampleKeys['support-bot'])))));
  expect(byKey).toMatchObject({ 'x-aigw-client': 'support-bot', 'x-aigw-tenant': 'customer-service' });
  expect(byKey['x-aigw-credential-openai']).toBe(`Bearer ${PROVIDER_SECRET}`);
  const byToken = headersOf(ok(await check(chat(bearer(await jwt())))));
  expect(byToken).toMatchObject({ 'x-aigw-client': 'staff-portal', 'x-aigw-tenant': 'finance' });
  const agent = headersOf(ok(await check(execute({ 'x-api-key': exampleKeys['agents-service'] }))));
  expect(agent).toMatchObject({ 'x-aigw-client': 'agents-service', 'x-aigw-route': 'execute-research' });
  ok(await check({ method: 'GET', path: '/v1/models', policy: 'models' }));
}

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') return;
  await stillServes();
});

// ---------------------------------------------------------------------------------------------

describe('the baseline', () => {
  it('accepts a good staff token, and the leak guard catches a leaking reason', async () => {
    await stillServes();
    const token = await jwt();
    const leaky: Decision = {
      allow: false,
      status: 401,
      reason: `bad token ${token}`,
      setHeaders: [],
      removeHeaders: [],
      responseHeaders: [],
      metadata: {},
    };
    expect(() => guardDenial(leaky, envoyCheckResponse(leaky), [token])).toThrow(/leaks a presented credential/);
    denialsChecked--;
  });
});

describe('JWT attacks on the portal provider', () => {
  const invalid = async (token: string, reason: string | RegExp) =>
    denied(await check(chat(bearer(token))), 401, reason);

  it('rejects alg "none" (any spelling, with or without a signature)', async () => {
    const payload = b64(claims());
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const header = b64({ alg, typ: 'JWT', kid: KID });
      await invalid(`${header}.${payload}.`, 'algorithm not allowed');
      const signed = (await jwt()).split('.')[2];
      await invalid(`${header}.${payload}.${signed}`, 'algorithm not allowed');
    }
    // A good token with its signature stripped.
    const [h, p] = (await jwt()).split('.');
    denied(await check(chat(bearer(`${h}.${p}.`))), 401, /^(bad signature|malformed token)$/);
  });

  it('rejects HS256 signed with the RSA public key as the HMAC secret (HS/RS confusion)', async () => {
    const der = Buffer.from(publicPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const secrets = [
      new TextEncoder().encode(publicPem),
      new TextEncoder().encode(publicPem.trim()),
      new Uint8Array(der),
      new TextEncoder().encode(JSON.stringify(staff.jwk)),
    ];
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      for (const secret of secrets) {
        const token = await new SignJWT(claims()).setProtectedHeader({ alg, typ: 'JWT', kid: KID }).sign(secret);
        await invalid(token, 'algorithm not allowed');
      }
    }
  });

  it('rejects an expired token (beyond the 60 s clock skew)', async () => {
    const t = nowS();
    await invalid(await jwt({ iat: t - 7200, exp: t - 3600 }), 'token expired');
    await invalid(await jwt({ iat: t - 7200, exp: t - 61 - 5 }), 'token expired');
    await invalid(await jwt({ exp: undefined }), 'token has no exp claim');
  });

  it('rejects a token that is not yet valid (nbf)', async () => {
    const t = nowS();
    await invalid(await jwt({ nbf: t + 3600, exp: t + 7200 }), 'token not yet valid');
    await invalid(await jwt({ nbf: t + 120, exp: t + 7200 }), 'token not yet valid');
  });

  it('rejects a wrong issuer, including look-alikes', async () => {
    for (const iss of [
      'https://evil.example/realms/staff',
      `${ISS}/`,
      'https://login.example.internal/realms/Staff',
      `${ISS}.evil.example`,
    ]) {
      await invalid(await jwt({ iss }), 'wrong issuer');
    }
    await invalid(await jwt({ iss: undefined }), 'wrong issuer');
  });

  it('rejects a wrong audience', async () => {
    await invalid(await jwt({ aud: 'other-api' }), 'wrong audience');
    await invalid(await jwt({ aud: ['other-api', 'ai-gateway-admin'] }), 'wrong audience');
    await invalid(await jwt({ aud: undefined }), 'wrong audience');
  });

  it('rejects an unknown kid', async () => {
    await invalid(await jwt({}, { kid: 'not-in-the-jwks' }), 'unknown signing key');
    await invalid(await jwt({}, { key: attacker.privateKey, kid: 'attacker-key' }), 'unknown signing key');
  });

  it('rejects a token signed by another key under the trusted kid', async () => {
    await invalid(await jwt({}, { key: attacker.privateKey }), 'bad signature');
  });

  it('never takes the key from the token header (embedded jwk / jku / x5u)', async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({
        alg: 'RS256',
        kid: 'attacker-key',
        jwk: { kty: attacker.jwk.kty!, n: attacker.jwk.n!, e: attacker.jwk.e! },
        jku: 'https://evil.example/jwks.json',
        x5u: 'https://evil.example/cert.pem',
      })
      .sign(attacker.privateKey);
    denied(await check(chat(bearer(token))), 401, /^(unknown signing key|malformed token)$/);
  });

  it('rejects a tampered payload', async () => {
    const good = await jwt();
    const [h, , s] = good.split('.');
    const elevated = b64(claims({ azp: 'agents-service', department: 'platform', scope: 'admin' }));
    await invalid(`${h}.${elevated}.${s}`, 'bad signature');
    // One flipped character: the payload may no longer decode as JSON.
    await invalid(flip(good, 1), /^(bad signature|malformed token)$/);
  });

  it('rejects a tampered signature', async () => {
    const good = await jwt();
    await invalid(flip(good, 2), 'bad signature');
    const [h, p, s] = good.split('.');
    await invalid(`${h}.${p}.${s.slice(0, -8)}`, 'bad signature');
    await invalid(`${h}.${p}.${[...s].reverse().join('')}`, 'bad signature');
  });

  it('does not let a token verified once be replayed with a different payload (cache)', async () => {
    const good = await jwt({ azp: 'staff-portal' });
    ok(await check(chat(bearer(good))));
    const [h, , s] = good.split('.');
    await invalid(`${h}.${b64(claims({ azp: 'agents-service' }))}.${s}`, 'bad signature');
  });
});

describe('identity headers cannot be spoofed', () => {
  const spoof: Record<string, string> = {
    'x-aigw-client': 'admin',
    'x-aigw-tenant': 'root',
    'x-aigw-model': 'gpt-4o-spoofed',
    'x-aigw-credential-openai': SPOOF_SECRET,
    'x-aigw-dispatch': 'chat-openai-spoofed',
    'x-aigw-route': 'admin-route',
    'x-aigw-personal-data': 'false-spoofed',
    'x-aigw-estimated-tokens': '1',
    'x-aigw-body-model': 'spoofed-model',
    'x-aigw-body-agent-type': 'spoofed-agent',
  };

  /** No spoofed value survives: each header is either set by us or removed, never both. */
  function expectScrubbed(o: OkHttpResponse): Record<string, string> {
    const set = headersOf(o);
    expect(new Set(o.headers.map((h) => h.header!.key)).size).toBe(o.headers.length);
    expect(o.headers.every((h) => h.append === false)).toBe(true);
    for (const [name, value] of Object.entries(spoof)) {
      const ours = set[name];
      const removed = o.headersToRemove.includes(name);
      expect(ours !== undefined || removed, `${name} passes through`).toBe(true);
      expect(ours !== undefined && removed, `${name} both set and removed`).toBe(false);
      if (ours !== undefined) expect(ours, name).not.toBe(value);
    }
    return set;
  }

  it('on the anonymous route: all removed', async () => {
    const set = expectScrubbed(
      ok(await check({ method: 'GET', path: '/v1/models', policy: 'models', headers: spoof })),
    );
    expect(set['x-aigw-client']).toBeUndefined();
    expect(set['x-aigw-route']).toBe('models');
  });

  it('with an API key on an OpenAI route: overwritten with the real identity and provider key', async () => {
    const set = expectScrubbed(ok(await check(chat({ ...spoof, ...bearer(exampleKeys['support-bot']) }))));
    expect(set).toMatchObject({
      'x-aigw-client': 'support-bot',
      'x-aigw-tenant': 'customer-service',
      'x-aigw-model': 'gpt-4o',
      'x-aigw-dispatch': 'chat-openai',
      'x-aigw-credential-openai': `Bearer ${PROVIDER_SECRET}`,
      'x-aigw-body-model': 'gpt-4o',
    });
  });

  it('with an API key on an in-house route: the provider-key header is removed, not passed through', async () => {
    const o = ok(await check(chat({ ...spoof, 'x-api-key': exampleKeys['support-bot'] }, chatBody('llama-3.1-70b'))));
    const set = expectScrubbed(o);
    expect(set['x-aigw-dispatch']).toBe('chat-in-house');
    expect(set['x-aigw-credential-openai']).toBeUndefined();
    expect(o.headersToRemove).toContain('x-aigw-credential-openai');
    expect(o.headersToRemove).toEqual(expect.arrayContaining(['authorization', 'x-api-key', 'api-key']));
  });

  it('with a JWT: overwritten with the token’s identity', async () => {
    const set = expectScrubbed(ok(await check(chat({ ...spoof, ...bearer(await jwt()) }))));
    expect(set).toMatchObject({ 'x-aigw-client': 'staff-portal', 'x-aigw-tenant': 'finance' });
  });

  it('on a dispatch route without a model: model headers removed', async () => {
    const o = ok(await check(execute({ ...spoof, 'api-key': exampleKeys['agents-service'] })));
    const set = expectScrubbed(o);
    expect(set).toMatchObject({ 'x-aigw-client': 'agents-service', 'x-aigw-dispatch': 'execute-research' });
    expect(o.headersToRemove).toContain('x-aigw-model');
  });

  it('when the body has no usable model: model headers removed', async () => {
    const o = ok(await check(chat({ ...spoof, ...bearer(await jwt()) }, { model: 42, messages: [] })));
    const set = expectScrubbed(o);
    expect(set['x-aigw-dispatch']).toBe('chat-in-house');
    expect(o.headersToRemove).toEqual(expect.arrayContaining(['x-aigw-model', 'x-aigw-body-model']));
  });

  it('the scrub check itself catches a header passed through', () => {
    const passed = create(OkHttpResponseSchema, { headersToRemove: Object.keys(spoof).slice(1) });
    expect(() => expectScrubbed(passed)).toThrow(/x-aigw-client passes through/);
  });

  it('spoofed headers are not credentials and do not authenticate', async () => {
    denied(await check(chat(spoof)), 401, 'missing credentials: send an API key or a token');
  });
});

describe('credential header confusion', () => {
  const key = exampleKeys['support-bot'];
  const other = exampleKeys['hr-assistant'];

  it('rejects two credential headers, even with the same key', async () => {
    const several = 'several credentials: send exactly one';
    denied(await check(chat({ ...bearer(key), 'x-api-key': key })), 401, several);
    denied(await check(chat({ 'x-api-key': key, 'api-key': other })), 401, several);
    denied(await check(chat({ ...bearer(await jwt()), 'x-api-key': key })), 401, several);
  });

  it('rejects comma-joined values (how Envoy joins repeated headers)', async () => {
    const one = 'several credentials in one header';
    denied(await check(chat({ 'x-api-key': `${key},${other}` })), 401, one);
    denied(await check(chat({ 'x-api-key': `${key},${key}` })), 401, one);
    denied(await check(chat({ 'x-api-key': `${key}, ${key}` })), 401, one);
    denied(await check(chat({ authorization: `Bearer ${key}, Bearer ${other}` })), 401, one);
    denied(await check(chat({ authorization: `Bearer ${key},${key}` })), 401, one);
    denied(await check(chat({ authorization: `Bearer ${key} ${other}` })), 401, one);
    denied(await check(chat({ 'x-api-key': `${await jwt()},${await jwt()}` })), 401, one);
  });

  it('rejects repeated headers sent as separate header_map entries', async () => {
    for (const [a, b] of [
      ['x-api-key', 'x-api-key'],
      ['authorization', 'authorization'],
    ]) {
      const req = envoyCheckRequest(chat({}));
      const http = req.attributes!.request!.http!;
      const value = (h: string) => (h === 'authorization' ? `Bearer ${key}` : key);
      const entries = [...Object.entries(http.headers), [a, value(a)] as const, [b, value(b)] as const];
      http.headerMap = create(HeaderMapSchema, {
        headers: entries.map(([k, v]) => ({ key: k, rawValue: new TextEncoder().encode(v) })),
      });
      http.headers = {};
      denied((await decide(req, [key])).res, 401, 'several credentials: send exactly one');
    }
  });

  it('rejects a non-Bearer authorization scheme', async () => {
    const scheme = 'the authorization header must be "Bearer <key or token>"';
    denied(await check(chat({ authorization: key })), 401, scheme);
    denied(await check(chat({ authorization: `Basic ${Buffer.from(`u:${key}`).toString('base64')}` })), 401, scheme);
    denied(await check(chat({ authorization: 'Bearer ' })), 401, scheme);
  });

  it('rejects a JWT on a route that accepts only API keys', async () => {
    const token = await jwt({ azp: 'agents-service', department: 'platform' });
    denied(await check(execute({ 'x-api-key': token })), 401, 'invalid API key');
    denied(await check(execute(bearer(token))), 401, 'invalid API key');
  });

  it('rejects unknown keys and keys with extra characters', async () => {
    denied(await check(chat(bearer(`${key}x`))), 401, 'invalid API key');
    denied(await check(chat(bearer(key.slice(0, -1)))), 401, 'invalid API key');
    denied(await check(chat(bearer(key.toUpperCase()))), 401, 'invalid API key');
  });
});

describe('path tricks do not change the decision', () => {
  const tricks = [
    '//v1/models',
    '/v1/%2e%2e/execute',
    '/v1/models%00',
    '/v1/./models/../models',
    '/%2F%2Fv1%2Fmodels',
    '/v1/models%0d%0ax-aigw-client:%20admin',
    '/v1/models?policy=admin&x-aigw-client=admin',
    '/../../../etc/passwd',
    '*',
    '',
    `/${'a/'.repeat(30_000)}`,
  ];

  const summary = (d: Decision) => ({
    allow: d.allow,
    status: d.status,
    reason: d.reason,
    setHeaders: d.setHeaders,
    removeHeaders: d.removeHeaders,
    metadata: d.metadata,
  });

  it.each([
    ['the anonymous route', { method: 'GET', policy: 'models' }, 200],
    [
      'an API-key route with its client',
      { policy: 'dispatch/execute-research', ...execute(bearer(exampleKeys['agents-service'])) },
      200,
    ],
    [
      'an API-key route without credentials',
      { policy: 'dispatch/execute-research', body: { agent_type: 'research' } },
      401,
    ],
    ['a route with the wrong client', { ...execute(bearer(exampleKeys['support-bot'])) }, 403],
    ['no policy', { method: 'GET', policy: undefined }, 403],
  ] as [string, Omit<EnvoyRequest, 'path'>, number][])('%s', async (_name, base, status) => {
    const baseline = await decide(envoyCheckRequest({ ...base, path: '/v1/models' }));
    expect(baseline.decision.status).toBe(status);
    for (const p of tricks) {
      const got = await decide(envoyCheckRequest({ ...base, path: p }));
      expect(summary(got.decision), p.slice(0, 60)).toEqual(summary(baseline.decision));
    }
  });
});

describe('oversized headers', () => {
  const big = 64 * 1024;

  it('denies a 64 KiB credential cleanly', async () => {
    const cases: [Record<string, string>, string][] = [
      [bearer('A'.repeat(big)), 'invalid API key'],
      [{ 'x-api-key': `aigw_${'x'.repeat(big)}` }, 'invalid API key'],
      [{ 'x-api-key': `${'a'.repeat(big / 2)}.${'b'.repeat(big / 2)}.${'c'.repeat(64)}` }, 'malformed token'],
      [bearer(`${(await jwt()).split('.').slice(0, 2).join('.')}.${'s'.repeat(big)}`), 'malformed token'],
      [{ 'x-api-key': `${exampleKeys['support-bot']},`.repeat(big / 40) }, 'several credentials in one header'],
      [{ authorization: `Bearer${' '.repeat(big)}${exampleKeys['support-bot']}` }, ''],
      [{ 'api-key': ' '.repeat(big) }, 'missing credentials: send an API key or a token'],
    ];
    for (const [headers, reason] of cases) {
      const t0 = performance.now();
      const res = await check(chat(headers));
      expect(performance.now() - t0).toBeLessThan(2000);
      if (reason) denied(res, 401, reason);
      else {
        // Leading whitespace after "Bearer" is tolerated: the key itself is good.
        expect(headersOf(ok(res))['x-aigw-client']).toBe('support-bot');
      }
    }
    for (const headers of [bearer('A'.repeat(big)), bearer(`${'a'.repeat(big)}.${'b'.repeat(big)}.c`)]) {
      denied(await check(execute(headers)), 401, 'invalid API key');
    }
  });

  it('ignores 64 KiB non-credential headers and scrubs 64 KiB spoofed ones', async () => {
    const huge = 'z'.repeat(big);
    const o = ok(
      await check(
        chat({
          ...bearer(exampleKeys['support-bot']),
          'user-agent': huge,
          cookie: huge,
          'x-forwarded-for': `${'1.2.3.4, '.repeat(big / 9)}5.6.7.8`,
          [`x-${'n'.repeat(big)}`]: 'v',
          'x-aigw-client': huge,
          'x-aigw-credential-openai': huge,
        }),
      ),
    );
    const set = headersOf(o);
    expect(set['x-aigw-client']).toBe('support-bot');
    expect(set['x-aigw-credential-openai']).toBe(`Bearer ${PROVIDER_SECRET}`);
    for (const h of o.headers) expect(h.header!.value.length).toBeLessThan(1024);
  });
});

describe('malformed bodies', () => {
  const key = bearer(exampleKeys['support-bot']);

  /** A chat request whose raw body is exactly `bytes`. */
  function rawBody(bytes: Uint8Array, asString = false): CheckRequest {
    const req = envoyCheckRequest(chat(key, 'x'));
    const http = req.attributes!.request!.http!;
    if (asString) {
      http.rawBody = new Uint8Array();
      http.body = new TextDecoder().decode(bytes);
    } else http.rawBody = bytes;
    http.headers['content-length'] = String(bytes.length);
    return req;
  }
  const utf8 = (s: string) => new TextEncoder().encode(s);

  it('truncated JSON → 400', async () => {
    for (const b of ['{"model": "gpt-4o",', '{"model": "gpt-4o"', '{"model": "gpt-', '{', '{"model"']) {
      denied((await decide(rawBody(utf8(b)))).res, 400, 'body is not valid JSON');
    }
  });

  it('JSON that is not an object → 400', async () => {
    for (const b of ['[]', '[{"model":"gpt-4o"}]', '"gpt-4o"', '42', 'null', 'true']) {
      denied((await decide(rawBody(utf8(b)))).res, 400, 'body must be a JSON object');
    }
  });

  it('an empty body on a route that needs one → 400', async () => {
    denied((await decide(rawBody(new Uint8Array()))).res, 400, 'this route needs a JSON request body');
  });

  it('10,000 levels of nesting → 400, quickly', async () => {
    const depth = 10_000;
    const bodies = [
      `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
      `{"model":"gpt-4o","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      `{"model":"gpt-4o","x":${'['.repeat(depth)}`,
    ];
    for (const b of bodies) {
      const { res, ms } = await decide(rawBody(utf8(b)));
      denied(res, 400, 'body is nested deeper than 64 levels');
      expect(ms).toBeLessThan(1000);
    }
    // Brackets inside strings are text, not nesting.
    ok(await check(chat(key, chatBody('gpt-4o', '['.repeat(depth)))));
  });

  it('invalid UTF-8 → 400', async () => {
    const bad = [
      [0xff, 0xfe],
      [0xc0, 0xaf], // overlong "/"
      [0xed, 0xa0, 0x80], // an encoded UTF-16 surrogate
      [0xe2, 0x82], // truncated sequence
      [0xf8, 0x88, 0x80, 0x80, 0x80], // 5-byte form
    ];
    for (const seq of bad) {
      const bytes = Buffer.concat([Buffer.from('{"model":"gpt-4o","x":"'), Buffer.from(seq), Buffer.from('"}')]);
      denied((await decide(rawBody(new Uint8Array(bytes)))).res, 400, 'body is not UTF-8');
    }
  });

  it('a 300 KiB body → 413, as raw bytes or as a string', async () => {
    const b = utf8(JSON.stringify(chatBody('gpt-4o', 'x'.repeat(300 * 1024))));
    denied((await decide(rawBody(b))).res, 413, `body larger than ${MAX_BODY} bytes`);
    denied((await decide(rawBody(b, true))).res, 413, `body larger than ${MAX_BODY} bytes`);
    // Multi-byte text counts in bytes, not characters.
    const wide = utf8(JSON.stringify(chatBody('gpt-4o', 'é'.repeat(MAX_BODY / 2 + 10))));
    denied((await decide(rawBody(wide, true))).res, 413, `body larger than ${MAX_BODY} bytes`);
  });

  it('a model name with CR/LF or other control characters → 400', async () => {
    const models = [
      'gpt-4o\r\nx-aigw-client: admin',
      'gpt-4o\nx-aigw-client: admin',
      'gpt-4o\r',
      'gpt-4o\u0000',
      '\tgpt-4o',
      ' gpt-4o',
    ];
    for (const model of models) {
      const reason = 'field model is not a valid header value';
      denied(await check(chat(key, chatBody(model))), 400, reason);
      denied(
        await check({ path: '/v1/embeddings', policy: 'dispatch/embeddings-openai', headers: key, body: { model } }),
        400,
        reason,
      );
      denied(await check({ path: '/v1/models', policy: 'models', body: { model } }), 400, reason);
    }
    denied(
      await check({
        path: '/execute',
        policy: 'dispatch/execute-research',
        headers: { 'x-api-key': exampleKeys['agents-service'] },
        body: { agent_type: 'research\r\nx-aigw-client: admin' },
      }),
      400,
      'field agent_type is not a valid header value',
    );
  });
});

describe('policy selection fails closed', () => {
  const key = bearer(exampleKeys['support-bot']);

  it('no policy → 403', async () => {
    denied(
      await check({ path: '/v1/chat/completions', headers: key, body: chatBody() }),
      403,
      'the route names no policy',
    );
    denied(await check({ path: '/v1/models', policy: '', method: 'GET' }), 403, 'the route names no policy');
  });

  it('unknown policy → 403', async () => {
    for (const name of ['nope', 'dispatch/nope', 'Models', 'models ', 'dispatch']) {
      denied(await check({ path: '/v1/models', policy: name, headers: key }), 403, `unknown policy "${name}"`);
    }
  });

  it('a policy named after an Object.prototype property → 403 (not a crash)', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      const input = checkInputFromEnvoy(envoyCheckRequest({ path: '/v1/models', policy: name, headers: key }));
      const d = await Promise.resolve(checker.check(input)).catch((e: Error) => e);
      expect(d, `policy "${name}"`).not.toBeInstanceOf(Error);
      denied(envoyCheckResponse(d as Decision), 403, `unknown policy "${name}"`);
    }
  });
});

describe('decisions taken at once', () => {
  // Only a JWT not verified before (or a token quota to charge) is waited for: the rest is decided
  // in the call itself, without a promise per check.
  it('an API key and a JWT verified before: a Decision; a JWT seen first: a promise of the same answer', async () => {
    const input = (r: EnvoyRequest) => checkInputFromEnvoy(envoyCheckRequest(r));
    const byKey = checker.check(input(chat(bearer(exampleKeys['support-bot']))));
    expect(byKey).not.toBeInstanceOf(Promise);
    expect(byKey).toMatchObject({ allow: true, client: 'support-bot' });
    expect(checker.check(input({ method: 'GET', path: '/v1/models', policy: 'models' }))).toMatchObject({
      allow: true,
    });
    const token = await jwt({ jti: 'decided-at-once' });
    const firstInput = checkInputFromWire(toBinary(CheckRequestSchema, envoyCheckRequest(chat(bearer(token)))));
    const first = checker.check(firstInput);
    expect(first).toBeInstanceOf(Promise);
    expect(firstInput.headers).toBeInstanceOf(Map); // detached before waiting (decision.ts detachInput)
    const verified = await first;
    expect(verified).toMatchObject({ allow: true, client: 'staff-portal', tenant: 'finance' });
    const again = checker.check(input(chat(bearer(token))));
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toEqual(verified);
    // A denial is at once too; a fault never throws out of check(): a rejected promise.
    expect(checker.check(input(chat(bearer('aigw_not_a_key'))))).toMatchObject({ allow: false, status: 401 });
    const broken = new Checker(() => {
      throw new Error('runtime exploded');
    }, new UpstreamCredentials({}));
    const fault = broken.check(input(chat({})));
    expect(fault).toBeInstanceOf(Promise);
    await expect(fault).rejects.toThrow('runtime exploded');
  });
});

describe('the leak guard', () => {
  it('ran on every denial of this suite (runs last)', () => {
    expect(denialsChecked).toBeGreaterThan(60);
  });
});
