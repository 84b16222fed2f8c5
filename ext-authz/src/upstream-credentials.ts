// Provider keys for backends, from a mounted secret file or an environment variable. Read at run
// time, cached, re-read when the file changes (Kubernetes rotates mounted Secrets in place).
// Values never reach a log line or an error message.
import fs from 'node:fs';
import type { BackendCredential } from './policy.js';

export class CredentialUnavailable extends Error {}

interface Cached {
  /** The key, read from the file. */
  value: string;
  /** The header value last asked for (prefix + value): built once, not on every request. */
  prefix: string;
  full: string;
  mtimeMs: number;
  checkedMs: number;
}

export class UpstreamCredentials {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly recheckMs = 1000,
  ) {}

  /** The full header value for the backend (prefix + key). Throws CredentialUnavailable. */
  value(b: BackendCredential, nowMs = Date.now()): string {
    const c = b.credential;
    if (c.env !== undefined) {
      const v = this.env[c.env]?.trim();
      if (!v)
        throw new CredentialUnavailable(`credential of backend ${b.name}: environment variable ${c.env} is not set`);
      return c.prefix + v;
    }
    const file = c.file!;
    const cached = this.cache.get(file);
    if (cached && nowMs - cached.checkedMs < this.recheckMs) return withPrefix(cached, c.prefix);
    try {
      const st = fs.statSync(file);
      if (cached && cached.mtimeMs === st.mtimeMs) {
        cached.checkedMs = nowMs;
        return withPrefix(cached, c.prefix);
      }
      const value = fs.readFileSync(file, 'utf8').trim();
      if (!value || /[\r\n\0]/.test(value)) throw new Error('empty or not a single line');
      const fresh = { value, prefix: c.prefix, full: c.prefix + value, mtimeMs: st.mtimeMs, checkedMs: nowMs };
      this.cache.set(file, fresh);
      return fresh.full;
    } catch (e) {
      throw new CredentialUnavailable(
        `credential of backend ${b.name}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
}

/** prefix + the cached key (two backends may share a file with different prefixes). */
function withPrefix(cached: Cached, prefix: string): string {
  if (cached.prefix !== prefix) {
    cached.prefix = prefix;
    cached.full = prefix + cached.value;
  }
  return cached.full;
}
