// Where a JWT provider's signing keys come from: a JWKS URL (fetched and cached by jose) or a JWKS
// file on disk (re-read when it changes). Either way the result is a jose key resolver for jwtVerify.
//
// Failing to obtain keys (network error, timeout, non-200, bad JSON, missing or broken file) is a
// fault of ours, not of the caller's token: it surfaces as JwksUnavailableError (`fault: true`) so
// the caller can answer 503 instead of 401.
import { readFile, stat } from 'node:fs/promises';
import {
  type CryptoKey,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from 'jose';
import { CredentialError } from './identity.js';
import type { JwtProviderConfig } from './jwt-types.js';

/** The signing keys of a provider could not be obtained: answer 503, not 401. Never a token problem. */
export class JwksUnavailableError extends CredentialError {
  /** Always true: the failure is ours (keys unavailable), not the caller's. */
  readonly fault = true as const;
  constructor(
    /** Provider whose keys are unavailable. */
    readonly provider: string,
    /** What went wrong, for our logs (no token content): e.g. "fetch timed out", "ENOENT". */
    readonly detail: string,
  ) {
    super('signing keys unavailable');
    this.name = 'JwksUnavailableError';
  }
}

/** True if `err` is a failure of ours (e.g. JWKS unavailable) rather than a bad credential. */
export function isCredentialFault(err: unknown): boolean {
  return err instanceof JwksUnavailableError;
}

/** A jose key resolver (what jwtVerify accepts as its key argument). */
export type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

export interface KeySource {
  readonly resolve: KeyResolver;
}

export interface KeySourceOptions {
  /** Remote JWKS fetch timeout (ms). */
  fetchTimeoutMs: number;
  /** Minimum time (ms) between refetches triggered by an unknown `kid` (remote JWKS). */
  cooldownMs: number;
  /** How often (ms, at most) a JWKS file is stat-ed for changes on use. */
  fileCheckIntervalMs: number;
}

/** Errors that mean "the key set has no key for this token", as opposed to "no key set". */
function isKeySelectionError(e: unknown): boolean {
  return e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys;
}

/** jose refuses RSA keys under 2048 bits with a TypeError; such a key in our JWKS is our fault. */
function usable(provider: string, key: CryptoKey): CryptoKey {
  const bits = (key.algorithm as { modulusLength?: unknown }).modulusLength;
  if (typeof bits === 'number' && bits < 2048) {
    throw new JwksUnavailableError(provider, `RSA key of ${bits} bits (2048 at least)`);
  }
  return key;
}

function describe(e: unknown): string {
  if (e instanceof errors.JWKSTimeout) return 'fetch timed out';
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return (code && !code.startsWith('ERR_JOSE') && !code.startsWith('ERR_JWK') ? `${code} ` : '') + e.message + cause;
  }
  return String(e);
}

/** Builds the key source of one provider. Throws (Error) on an unusable `jwks` setting. */
export function createKeySource(p: JwtProviderConfig, opts: KeySourceOptions): KeySource {
  const { url, file } = p.jwks ?? {};
  if (url && file) throw new Error(`jwt provider "${p.name}": set jwks.url or jwks.file, not both`);
  if (url) return remoteSource(p, url, opts);
  if (file) return new FileKeySource(p.name, file, opts.fileCheckIntervalMs);
  throw new Error(`jwt provider "${p.name}": jwks.url or jwks.file is required`);
}

function remoteSource(p: JwtProviderConfig, url: string, opts: KeySourceOptions): KeySource {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`jwt provider "${p.name}": jwks.url is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`jwt provider "${p.name}": jwks.url must be http(s)`);
  }
  const cacheSeconds = Number.isFinite(p.jwks.cache_seconds) && p.jwks.cache_seconds >= 0 ? p.jwks.cache_seconds : 600;
  const remote = createRemoteJWKSet(parsed, {
    timeoutDuration: Math.max(0, Math.floor(opts.fetchTimeoutMs)),
    cacheMaxAge: cacheSeconds * 1000,
    cooldownDuration: opts.cooldownMs,
  });
  return {
    resolve: async (header, token) => {
      try {
        return usable(p.name, await remote(header, token));
      } catch (e) {
        if (isKeySelectionError(e) || e instanceof JwksUnavailableError) throw e;
        throw new JwksUnavailableError(p.name, describe(e));
      }
    },
  };
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/**
 * A JWKS file. Read on first use; afterwards stat-ed at most once per `checkIntervalMs` on use, and
 * immediately when a token names a `kid` the current set lacks (so a rotated file is picked up at
 * once). A change (inode, size or mtime) re-reads it. If the file is missing or invalid before any
 * good read, every use fails with JwksUnavailableError; after a good read, a later missing/invalid
 * file keeps the last good key set (a half-written file must not lock everyone out) and is retried
 * on the next check.
 */
export class FileKeySource implements KeySource {
  private keys?: LocalSet;
  private signature?: string;
  private lastError = 'not loaded';
  private lastCheck = Number.NEGATIVE_INFINITY;
  private loading?: Promise<void>;

  constructor(
    private readonly provider: string,
    private readonly path: string,
    private readonly checkIntervalMs: number,
  ) {}

  readonly resolve: KeyResolver = async (header, token) => {
    await this.refresh(false);
    const keys = this.keys;
    if (!keys) throw new JwksUnavailableError(this.provider, this.lastError);
    try {
      return await this.select(keys, header, token);
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
      await this.refresh(true);
      if (this.keys === keys) throw e;
      return this.select(this.keys!, header, token);
    }
  };

  private async select(keys: LocalSet, header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    try {
      return usable(this.provider, await keys(header, token));
    } catch (e) {
      if (isKeySelectionError(e) || e instanceof JwksUnavailableError) throw e;
      // A key in the file could not be imported: our configuration, not the token.
      throw new JwksUnavailableError(this.provider, describe(e));
    }
  }

  private refresh(force: boolean): Promise<void> {
    const t = performance.now();
    // Checked recently: go on with the keys we have, or, before the first read has finished, wait
    // for it (concurrent first tokens must not fail for want of keys that are being read).
    if (!force && t - this.lastCheck < this.checkIntervalMs)
      return this.keys ? Promise.resolve() : (this.loading ?? Promise.resolve());
    this.lastCheck = t;
    if (!this.loading) {
      this.loading = this.load().finally(() => {
        this.loading = undefined;
      });
    }
    return this.loading;
  }

  private async load(): Promise<void> {
    try {
      const st = await stat(this.path);
      const sig = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
      if (sig === this.signature && this.keys) return;
      const text = await readFile(this.path, 'utf8');
      const jwks = JSON.parse(text) as JSONWebKeySet;
      this.keys = createLocalJWKSet(jwks);
      this.signature = sig;
    } catch (e) {
      this.lastError = describe(e);
    }
  }
}
