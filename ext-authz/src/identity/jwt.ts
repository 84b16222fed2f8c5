// JWT bearer tokens: signature, algorithm, issuer, audience and time checks (all by jose), then the
// configured claims mapped to an Identity. Verified tokens are cached by their SHA-256 (never the raw
// token) until they expire.
//
// Security decisions:
// - Algorithms are pinned per provider. "none" and every HMAC algorithm (HS*) are dropped from the
//   pinned list even when configured: a public key must never be usable as an HMAC secret (HS/RS
//   confusion). Unknown algorithm names are dropped too; a provider left with none rejects every
//   token with "algorithm not allowed".
// - The token's `iss`, decoded without verification, only picks the provider; the chosen provider then
//   verifies everything, `iss` included.
// - Keys come only from the provider's JWKS (URL or file); header parameters such as jwk/jku/x5u are
//   never used to find a key.
// - Errors carry a short fixed reason (plus, at most, a claim name from our own configuration); never
//   the token or its claim values.
import { decodeJwt, decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import { CredentialError, type Identity } from './identity.js';
import { createKeySource, JwksUnavailableError, type KeySource } from './jwks.js';
import type { JwtProviderConfig } from './jwt-types.js';
import { sha256 } from './sha256.js';

export { isCredentialFault, JwksUnavailableError } from './jwks.js';

export interface JwtVerifierOptions {
  /** Current time in ms since the epoch (for tests). Default Date.now. */
  now?: () => number;
  /** Remote JWKS fetch timeout in ms. Default 2000. */
  fetchTimeoutMs?: number;
  /** Maximum number of verified tokens kept in the cache (LRU). Default 10000; 0 disables the cache. */
  cacheMaxEntries?: number;
  /** A JWKS file is checked for changes at most this often (ms) on use. Default 1000. */
  fileCheckIntervalMs?: number;
}

/** Longest token accepted at all (characters); longer ones are rejected unparsed. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** Asymmetric JWS algorithms that may be pinned; anything else (none, HS*, unknown) is never allowed. */
const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
]);

/** Used when the policy omits clock_skew_seconds (as Envoy's jwt_authn). */
const DEFAULT_CLOCK_SKEW_SECONDS = 60;
/** Minimum time between JWKS refetches triggered by an unknown `kid`. */
const JWKS_COOLDOWN_MS = 30_000;

interface Provider {
  readonly cfg: JwtProviderConfig;
  readonly algorithms: string[];
  readonly clockSkewSeconds: number;
}

interface CacheEntry {
  readonly identity: Readonly<Identity>;
  /** `exp` of the token, in ms. */
  readonly expMs: number;
}

const fail = (reason: string) => new CredentialError(reason);

export class JwtVerifier {
  private readonly providers = new Map<string, Provider>();
  private readonly sources = new Map<string, KeySource>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly now: () => number;
  private readonly fetchTimeoutMs: number;
  private readonly cacheMaxEntries: number;
  private readonly fileCheckIntervalMs: number;

  /** Throws (Error) on a provider setting that cannot work (no/both jwks sources, bad URL, no client claim). */
  constructor(providers: JwtProviderConfig[], opts: JwtVerifierOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.fetchTimeoutMs = opts.fetchTimeoutMs ?? 2000;
    this.cacheMaxEntries = Math.max(0, Math.floor(opts.cacheMaxEntries ?? 10_000));
    this.fileCheckIntervalMs = opts.fileCheckIntervalMs ?? 1000;
    for (const cfg of providers) {
      if (this.providers.has(cfg.name)) throw new Error(`jwt provider "${cfg.name}" is defined twice`);
      if (typeof cfg.claims?.client !== 'string' || !cfg.claims.client) {
        throw new Error(`jwt provider "${cfg.name}": claims.client is required`);
      }
      const skew = cfg.clock_skew_seconds;
      this.providers.set(cfg.name, {
        cfg,
        algorithms: (cfg.algorithms ?? []).filter((a) => ASYMMETRIC_ALGORITHMS.has(a)),
        clockSkewSeconds:
          typeof skew === 'number' && Number.isFinite(skew) && skew >= 0 ? skew : DEFAULT_CLOCK_SKEW_SECONDS,
      });
      this.sources.set(cfg.name, this.newSource(cfg)); // validates the jwks setting now
    }
  }

  /**
   * Verifies `token` against the named providers (the route's allowed ones, in order). Resolves an
   * Identity or rejects with CredentialError; JwksUnavailableError (a CredentialError with
   * `fault: true`) when the signing keys could not be obtained.
   */
  async verify(token: string, providerNames: string[]): Promise<Identity> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      throw fail('malformed token');
    }
    const key = sha256(token, 'base64url');
    const nowMs = this.now();
    const hit = this.fromCache(key, providerNames, nowMs);
    if (hit) return hit;

    let iss: unknown;
    try {
      decodeProtectedHeader(token); // a JSON object, or this throws
      iss = decodeJwt(token).iss;
    } catch {
      throw fail('malformed token');
    }
    const candidates: Provider[] = [];
    for (const name of new Set(providerNames)) {
      const p = this.providers.get(name);
      if (p && p.cfg.issuer === iss) candidates.push(p);
    }
    if (candidates.length === 0) throw fail('wrong issuer');

    // Usually one candidate. With several (same issuer), the first that accepts wins; otherwise a
    // fault (keys unavailable) wins over a token problem, since the token might have been good.
    let first: CredentialError | undefined;
    let fault: CredentialError | undefined;
    for (const p of candidates) {
      try {
        const { identity, expMs } = await this.verifyWith(p, token, nowMs);
        this.remember(key, { identity: Object.freeze(identity), expMs });
        return copy(identity);
      } catch (e) {
        const err = toCredentialError(e);
        first ??= err;
        if (err instanceof JwksUnavailableError) fault ??= err;
      }
    }
    throw fault ?? first!;
  }

  /**
   * The identity of a token verified before (still valid, by one of these providers), at once;
   * undefined otherwise (then verify()). What verify() would resolve for it.
   */
  cached(token: string, providerNames: string[]): Identity | undefined {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
    return this.fromCache(sha256(token, 'base64url'), providerNames, this.now());
  }

  private fromCache(key: string, providerNames: string[], nowMs: number): Identity | undefined {
    const hit = this.cache.get(key);
    if (!hit) return undefined;
    if (nowMs >= hit.expMs) {
      this.cache.delete(key);
      return undefined;
    }
    if (!providerNames.includes(hit.identity.provider!)) return undefined;
    this.cache.delete(key); // LRU: move to the most recent end
    this.cache.set(key, hit);
    return copy(hit.identity);
  }

  /** Drops the verified-token cache and the cached signing keys (rebuilt on next use). Holds no timers. */
  close(): void {
    this.cache.clear();
    this.sources.clear();
  }

  private newSource(cfg: JwtProviderConfig): KeySource {
    return createKeySource(cfg, {
      fetchTimeoutMs: this.fetchTimeoutMs,
      cooldownMs: JWKS_COOLDOWN_MS,
      fileCheckIntervalMs: this.fileCheckIntervalMs,
    });
  }

  private source(cfg: JwtProviderConfig): KeySource {
    let s = this.sources.get(cfg.name);
    if (!s) {
      s = this.newSource(cfg);
      this.sources.set(cfg.name, s);
    }
    return s;
  }

  private async verifyWith(p: Provider, token: string, nowMs: number): Promise<{ identity: Identity; expMs: number }> {
    const options: JWTVerifyOptions = {
      algorithms: p.algorithms,
      issuer: p.cfg.issuer,
      audience: p.cfg.audiences ?? [],
      requiredClaims: ['exp'],
      clockTolerance: p.clockSkewSeconds,
      currentDate: new Date(nowMs),
    };
    const resolve = this.source(p.cfg).resolve;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolve, options));
    } catch (e) {
      if (!(e instanceof errors.JWKSMultipleMatchingKeys)) throw e;
      payload = await verifyWithAnyOf(e, token, options);
    }
    return { identity: toIdentity(p.cfg, payload), expMs: (payload.exp as number) * 1000 };
  }

  private remember(key: string, entry: CacheEntry): void {
    if (this.cacheMaxEntries === 0) return;
    this.cache.delete(key);
    while (this.cache.size >= this.cacheMaxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    this.cache.set(key, entry);
  }
}

/** Several keys in the set fit the token's header (e.g. no `kid`): the token is good if one verifies it. */
async function verifyWithAnyOf(
  err: errors.JWKSMultipleMatchingKeys,
  token: string,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  for await (const key of err) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (e) {
      if (!(e instanceof errors.JWSSignatureVerificationFailed)) throw e;
    }
  }
  throw new errors.JWSSignatureVerificationFailed();
}

function toCredentialError(e: unknown): CredentialError {
  if (e instanceof CredentialError) return e;
  if (e instanceof errors.JOSEAlgNotAllowed) return fail('algorithm not allowed');
  if (e instanceof errors.JWTExpired) return fail('token expired');
  if (e instanceof errors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case 'iss':
        return fail('wrong issuer');
      case 'aud':
        return fail('wrong audience');
      case 'nbf':
        return fail(e.reason === 'check_failed' ? 'token not yet valid' : 'malformed token');
      case 'exp':
        return fail(e.reason === 'missing' ? 'token has no exp claim' : 'malformed token');
      default:
        return fail('malformed token');
    }
  }
  if (e instanceof errors.JWKSNoMatchingKey) return fail('unknown signing key');
  if (e instanceof errors.JWSSignatureVerificationFailed) return fail('bad signature');
  // JWSInvalid, JWTInvalid, JOSENotSupported (e.g. unknown "crit"), anything else: fail closed.
  return fail('malformed token');
}

/**
 * Maps the verified claims to an Identity:
 * - client: the claims.client claim, a non-empty string; otherwise "token has no <claim> claim".
 * - tenant: the claims.tenant claim, a string; a missing claim (or no tenant claim configured) gives
 *   tenant ""; a present non-string value is rejected ("token has a malformed <claim> claim").
 * - scopes: the claims.scopes claim, a space-separated string or an array of strings (duplicates
 *   dropped); missing → []; anything else is rejected as malformed.
 * Claim names are top-level names, taken literally (a dot is part of the name, not a path).
 */
function toIdentity(cfg: JwtProviderConfig, payload: JWTPayload): Identity {
  const claims = cfg.claims;
  const client = claim(payload, claims.client);
  if (typeof client !== 'string' || client === '') throw fail(`token has no ${claims.client} claim`);

  let tenant = '';
  const t = claims.tenant ? claim(payload, claims.tenant) : undefined;
  if (t !== undefined) {
    if (typeof t !== 'string') throw fail(`token has a malformed ${claims.tenant} claim`);
    tenant = t;
  }

  let scopes: string[] = [];
  const s = claims.scopes ? claim(payload, claims.scopes) : undefined;
  if (typeof s === 'string') {
    scopes = s.split(/\s+/).filter(Boolean);
  } else if (Array.isArray(s) && s.every((x) => typeof x === 'string')) {
    scopes = (s as string[]).filter(Boolean);
  } else if (s !== undefined) {
    throw fail(`token has a malformed ${claims.scopes} claim`);
  }

  return { kind: 'jwt', client, tenant, scopes: [...new Set(scopes)], models: [], provider: cfg.name };
}

/** An own property of the claims set (never an inherited one such as "constructor"). */
function claim(payload: JWTPayload, name: string): unknown {
  return Object.hasOwn(payload, name) ? payload[name] : undefined;
}

function copy(id: Readonly<Identity>): Identity {
  return { ...id, scopes: [...id.scopes], models: [...id.models] };
}
