// Counters in Redis (one node) or Redis Cluster, over ioredis.
//
// One apply() = one round trip per node: its hits go with the other calls of the same event-loop turn
// (redis-turn.ts), as INCRBY+EXPIRE per fixed-window hit (envoyproxy's commands and key layout) or one
// EVALSHA of the scripts in redis-scripts.ts (redis-plans.ts says which). In Cluster mode the hits
// are grouped by the node serving their slot and the groups are sent in parallel.
//
// Fail fast: no offline queue (a call while disconnected rejects at once), no retries of a sent command
// (INCRBY is not idempotent), an ioredis commandTimeout, and on top a deadline on every call: it
// settles within commandTimeoutMs whatever happens underneath. The connection comes back by itself
// (reconnect with capped exponential backoff); a server that stops answering on an open connection is
// detected by the socket timeout, which drops the connection so that ready() turns false and a
// reconnection starts.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { checkHit, slidingWindow, tokenBucket } from './algorithms.js';
import { keySlot } from './key-slot.js';
import { type Plan, planFor, RedisStoreError } from './redis-plans.js';
import { FIXED_WINDOW_BATCH_LUA, SLIDING_WINDOW_LUA, TOKEN_BUCKET_LUA } from './redis-scripts.js';
import { TurnBatcher } from './redis-turn.js';
import type { CounterStore, Hit, HitResult } from './store.js';

export { RedisStoreError };

export interface RedisStoreOptions {
  /** Node URLs: one for a single node; the seed nodes for a cluster. See parseRedisUrl for the forms. */
  urls: string[];
  cluster: boolean;
  /** Put before every key, after envoyproxy's own CACHE_KEY_PREFIX already in Hit.key (default ''). */
  keyPrefix?: string;
  /** apply() settles within this many ms (default 200). */
  commandTimeoutMs?: number;
  /** TCP/TLS connect timeout per attempt (default 1000). */
  connectTimeoutMs?: number;
  /** Connection errors (they are also why apply() rejects). Default: ignored. */
  onError?: (err: Error) => void;
}

export interface RedisNode {
  host: string;
  port: number;
  /** Unix socket path (host/port then unused). */
  path?: string;
  username?: string;
  password?: string;
  db?: number;
  tls: boolean;
}

const DEFAULT_PORT = 6379;

/**
 * One node: `redis://[[user]:password@]host[:port][/db]`, `rediss://…` (TLS), `host:port` (envoyproxy's
 * REDIS_URL with REDIS_SOCKET_TYPE=tcp), `unix:///path/redis.sock`; query `?db=&username=&password=` too.
 * User and password are URL-decoded.
 */
export function parseRedisUrl(url: string): RedisNode {
  const text = url.trim();
  if (text.startsWith('/')) return { host: '', port: 0, path: text, tls: false };
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : 'redis://' + text;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new RangeError(`invalid Redis URL ${JSON.stringify(maskUrl(text))}`);
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss' && scheme !== 'unix')
    throw new RangeError(`unsupported Redis URL scheme ${JSON.stringify(scheme)} (redis, rediss, unix)`);
  const q = u.searchParams;
  const username = q.get('username') ?? (u.username ? decodeURIComponent(u.username) : undefined);
  const password = q.get('password') ?? (u.password ? decodeURIComponent(u.password) : undefined);
  const dbText = q.get('db') ?? (scheme === 'unix' ? '' : u.pathname.replace(/^\//, ''));
  let db: number | undefined;
  if (dbText !== '') {
    db = Number(dbText);
    if (!Number.isInteger(db) || db < 0) throw new RangeError(`invalid Redis database ${JSON.stringify(dbText)}`);
  }
  const node: RedisNode = { host: '', port: 0, tls: scheme === 'rediss' };
  if (scheme === 'unix') node.path = decodeURIComponent(u.pathname);
  else {
    node.host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
    node.port = u.port ? Number(u.port) : DEFAULT_PORT;
  }
  if (username !== undefined) node.username = username;
  if (password !== undefined) node.password = password;
  if (db !== undefined) node.db = db;
  return node;
}

/**
 * A connection spec → node URLs and mode:
 * - `redis://…`, `rediss://…`, `host:port`, `unix:///…`: a single node;
 * - `redis+cluster://[user:pass@]h1:p1,h2:p2[,…]` (`rediss+cluster://` for TLS): a cluster, these as seeds;
 * - several node URLs separated by commas: a cluster.
 */
export function parseRedisSpec(spec: string): { urls: string[]; cluster: boolean } {
  const text = spec.trim();
  const m = /^(rediss?)\+cluster:\/\/(.*)$/i.exec(text);
  if (m) {
    const scheme = m[1].toLowerCase();
    let rest = m[2];
    let query = '';
    const qi = rest.indexOf('?');
    if (qi >= 0) {
      query = rest.slice(qi);
      rest = rest.slice(0, qi);
    }
    rest = rest.replace(/\/+$/, '');
    const at = rest.lastIndexOf('@');
    const auth = at >= 0 ? rest.slice(0, at + 1) : '';
    const hosts = (at >= 0 ? rest.slice(at + 1) : rest).split(',').map((h) => h.trim());
    if (hosts.some((h) => h === '')) throw new RangeError(`invalid Redis Cluster URL ${JSON.stringify(maskUrl(text))}`);
    return { urls: hosts.map((h) => `${scheme}://${auth}${h}${query}`), cluster: true };
  }
  const urls = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (urls.length === 0) throw new RangeError('empty Redis URL');
  return { urls, cluster: urls.length > 1 };
}

/** `redis://user:pass@h` → `redis://*****@h`, like envoyproxy's logs. */
export function maskUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/g, '//*****@');
}

function backoff(times: number): number {
  // 50, 100, 200, 400, 800, 1000, 1000… ms, plus up to 20 % jitter.
  const base = Math.min(1000, 50 * 2 ** Math.min(times - 1, 10));
  return Math.round(base * (1 + Math.random() * 0.2));
}

function withDeadline<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RedisStoreError(what())), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export class RedisStore implements CounterStore {
  readonly kind: 'redis' | 'redis-cluster';
  private readonly client: Redis | Cluster;
  private readonly keyPrefix: string;
  private readonly commandTimeoutMs: number;
  private readonly target: string;
  private closed = false;
  private lastRefresh = 0;
  private readonly turns: TurnBatcher;

  /** `fromUrl('redis://h:6379')`, `fromUrl('redis+cluster://h1:7000,h2:7001')`: see parseRedisSpec. */
  static fromUrl(spec: string, opts: Omit<RedisStoreOptions, 'urls' | 'cluster'> & { cluster?: boolean } = {}) {
    const parsed = parseRedisSpec(spec);
    return new RedisStore({ ...opts, urls: parsed.urls, cluster: opts.cluster ?? parsed.cluster });
  }

  constructor(opts: RedisStoreOptions) {
    if (opts.urls.length === 0) throw new RangeError('RedisStore needs at least one URL');
    if (!opts.cluster && opts.urls.length > 1)
      throw new RangeError('RedisStore: several URLs given for a single node (set cluster: true for a cluster)');
    this.keyPrefix = opts.keyPrefix ?? '';
    // Braces in the prefix would change the hash tag that keeps a sliding window's two keys in one slot.
    if (/[{}]/.test(this.keyPrefix)) throw new RangeError('RedisStore: keyPrefix must not contain "{" or "}"');
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 200;
    const connectTimeout = opts.connectTimeoutMs ?? 1000;
    const nodes = opts.urls.map(parseRedisUrl);
    this.target = opts.urls.map(maskUrl).join(',');
    const first = nodes[0];
    const common: RedisOptions = {
      username: first.username,
      password: first.password,
      tls: first.tls ? {} : undefined,
      connectTimeout,
      commandTimeout: this.commandTimeoutMs,
      // A server that holds the connection open but stops answering: drop the connection (→ not ready,
      // reconnect) once it has been silent this long with commands waiting.
      socketTimeout: Math.max(1000, 5 * this.commandTimeoutMs),
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      keepAlive: 30_000,
    };
    const onError = opts.onError ?? (() => {});
    if (opts.cluster) {
      this.kind = 'redis-cluster';
      const clusterOpts: ClusterOptions = {
        redisOptions: common,
        enableOfflineQueue: false,
        clusterRetryStrategy: backoff,
        // 0: a pipeline whose connection closed is failed at once, not re-sent: it may have run already
        // (INCRBY is not idempotent), and a retry could not finish within commandTimeoutMs anyway.
        retryDelayOnFailover: 0,
        // CLUSTERDOWN / TRYAGAIN mean "not executed": a retry is safe (the deadline still applies).
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: Math.max(500, connectTimeout),
        slotsRefreshInterval: 2000,
      };
      const cluster = new Cluster(
        nodes.map((n) => ({ host: n.host, port: n.port })),
        clusterOpts,
      );
      cluster.on('error', onError);
      cluster.on('node error', onError);
      this.client = cluster;
    } else {
      this.kind = 'redis';
      const redis = new Redis({
        ...common,
        host: first.host || undefined,
        port: first.port || undefined,
        path: first.path,
        db: first.db,
        retryStrategy: backoff,
      });
      redis.on('error', onError);
      redis.on('ready', () => this.probeStandalone(redis));
      this.client = redis;
    }
    this.client.defineCommand('rlSlidingWindow', { numberOfKeys: 2, lua: SLIDING_WINDOW_LUA });
    this.client.defineCommand('rlTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    this.client.defineCommand('rlFixedWindowBatch', { lua: FIXED_WINDOW_BATCH_LUA });
    this.turns = new TurnBatcher(this.client, this.target, this.commandTimeoutMs);
  }

  /** Fixed-window scripts across keys only on a plain standalone Redis (not a cluster node or a proxy). */
  private probeStandalone(redis: Redis): void {
    this.turns.useScripts(false);
    redis.info('server').then(
      (info) => this.turns.useScripts(/^redis_mode:standalone\r?$/m.test(info)),
      () => this.turns.useScripts(false),
    );
  }

  ready(): boolean {
    return !this.closed && this.client.status === 'ready';
  }

  /** The underlying ioredis client (for health checks and tests; do not close it directly). */
  get connection(): Redis | Cluster {
    return this.client;
  }

  async apply(hits: Hit[]): Promise<HitResult[]> {
    if (this.closed) throw new RedisStoreError('redis store is closed');
    const results: HitResult[] = new Array(hits.length);
    const plans: (Plan | null)[] = new Array(hits.length);
    let remote = 0;
    for (let i = 0; i < hits.length; i++) {
      const hit = hits[i];
      checkHit(hit);
      const local = this.localResult(hit);
      if (local) {
        results[i] = local;
        plans[i] = null;
      } else {
        plans[i] = planFor(hit, this.keyPrefix);
        remote++;
      }
    }
    if (remote === 0) return results;
    if (this.client.status !== 'ready')
      throw new RedisStoreError(`redis ${this.target} is not connected (${this.client.status})`);
    if (this.client instanceof Cluster) return this.applyCluster(this.client, plans, results);
    return this.turns.submit('', plans, results);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.client;
    if (c.status === 'ready') {
      try {
        await withDeadline(c.quit(), 1000, () => 'quit timed out');
        return;
      } catch {
        // fall through
      }
    }
    c.disconnect();
  }

  /** Hits that need no Redis state: the algorithm answers alone. */
  private localResult(hit: Hit): HitResult | null {
    if (hit.limit !== 0) return null;
    if (hit.algorithm === 'sliding_window') return slidingWindow(hit, 0, 0).result;
    if (hit.algorithm === 'token_bucket') return tokenBucket(hit, null).result;
    return null;
  }

  private async applyCluster(cluster: Cluster, plans: (Plan | null)[], results: HitResult[]): Promise<HitResult[]> {
    // Group by the nodes serving the slot (ioredis requires one pipeline to stay on one node).
    const groups = new Map<string, number[]>();
    plans.forEach((plan, i) => {
      if (!plan) return;
      const slot = keySlot(plan.slotKey);
      const nodes = cluster.slots[slot];
      const id = nodes && nodes.length > 0 ? nodes.join(';') : `slot:${slot}`;
      const g = groups.get(id);
      if (g) g.push(i);
      else groups.set(id, [i]);
    });
    try {
      await Promise.all([...groups.entries()].map(([id, only]) => this.turns.submit(id, plans, results, only)));
      return results;
    } catch (e) {
      // A node may have died or its slots moved (failover): learn the new layout soon, at most once a second.
      if (Date.now() - this.lastRefresh >= 1000) {
        this.lastRefresh = Date.now();
        cluster.refreshSlotsCache();
      }
      throw e;
    }
  }
}
