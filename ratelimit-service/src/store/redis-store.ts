// Counters in Redis (one node) or Redis Cluster, over ioredis.
//
// One apply() = one round trip per node: a single pipeline holding, per hit, INCRBY+EXPIRE (fixed_window,
// envoyproxy's commands and key layout) or one EVALSHA of the scripts in redis-scripts.ts. In Cluster mode
// the hits are grouped by the node serving their slot and the groups are sent in parallel.
// Calls that arrive in the same turn of the event loop share that pipeline (one socket write and one
// batch of replies for all of them): under load this costs less per call than anything else here, and
// each call still reads only its own replies, so one call's error reply fails that call alone.
// On a single node, a turn whose hits are all fixed-window increments (what gen build emits) goes as
// one script instead (FIXED_WINDOW_BATCH_LUA: the same INCRBY + EXPIRE per key): one command instead
// of two per hit, which halves the CPU ioredis spends building commands and the garbage they leave.
//
// Fail fast: no offline queue (a call while disconnected rejects at once), no retries of a sent command
// (INCRBY is not idempotent), an ioredis commandTimeout, and on top a deadline on the whole apply():
// it settles within commandTimeoutMs whatever happens underneath. The connection comes back by itself
// (reconnect with capped exponential backoff); a server that stops answering on an open connection is
// detected by the socket timeout, which drops the connection so that ready() turns false and a
// reconnection starts.
import { type ChainableCommander, Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import {
  checkHit,
  fixedWindowExpireSeconds,
  fixedWindowKey,
  fixedWindowResult,
  slidingWindow,
  slidingWindowKeys,
  TTL_MARGIN_MS,
  tokenBucket,
  tokenBucketKey,
} from './algorithms.js';
import { keySlot } from './key-slot.js';
import { FIXED_WINDOW_BATCH_LUA, SLIDING_WINDOW_LUA, TOKEN_BUCKET_LUA } from './redis-scripts.js';
import type { CounterStore, Hit, HitResult } from './store.js';

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

/** A failure of the store (connection, timeout, or an error reply); the message says which. */
export class RedisStoreError extends Error {
  override name = 'RedisStoreError';
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

type ScriptCommander = ChainableCommander & {
  rlSlidingWindow(k1: string, k2: string, ...args: (string | number)[]): ChainableCommander;
  rlTokenBucket(k1: string, ...args: (string | number)[]): ChainableCommander;
};

type BatchClient = { rlFixedWindowBatch(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<unknown> };

/** Most keys in one FIXED_WINDOW_BATCH_LUA call (a larger turn is split): bounds how long Redis runs one script. */
const MAX_BATCH_KEYS = 512;

/** How one hit goes over the wire: commands appended to a pipeline, then its result read from the replies. */
interface Plan {
  /** Key that decides the Cluster slot. */
  slotKey: string;
  /** Number of replies it takes. */
  replies: number;
  /** A fixed-window increment (INCRBY key hits, EXPIRE key ttl): may go in FIXED_WINDOW_BATCH_LUA. */
  increment?: { key: string; hits: number; ttlSeconds: number };
  enqueue(p: ScriptCommander): void;
  read(replies: unknown[]): HitResult;
}

/** One call's share of a shared pipeline. */
interface Queued {
  plans: Plan[];
  resolve(replies: [Error | null, unknown][]): void;
  reject(e: Error): void;
}

function backoff(times: number): number {
  // 50, 100, 200, 400, 800, 1000, 1000… ms, plus up to 20 % jitter.
  const base = Math.min(1000, 50 * 2 ** Math.min(times - 1, 10));
  return Math.round(base * (1 + Math.random() * 0.2));
}

function toInt(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new RedisStoreError(`unexpected reply to ${what}: ${String(v)}`);
  return n;
}

function scriptResult(v: unknown, what: string): HitResult {
  if (!Array.isArray(v) || v.length !== 3) throw new RedisStoreError(`unexpected reply to ${what}: ${String(v)}`);
  return { over: toInt(v[0], what) === 1, remaining: toInt(v[1], what), resetSeconds: toInt(v[2], what) };
}

function describeError(e: Error): string {
  // maxRetriesPerRequest: 0 turns "the connection dropped with this command in flight" into this error.
  if (e.name === 'MaxRetriesPerRequestError') return 'connection lost with commands in flight';
  return e.message;
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
  /** Calls waiting for the next flush, per node group ('' for a single node). */
  private readonly queues = new Map<string, Queued[]>();
  private flushScheduled = false;

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
      this.client = redis;
    }
    this.client.defineCommand('rlSlidingWindow', { numberOfKeys: 2, lua: SLIDING_WINDOW_LUA });
    this.client.defineCommand('rlTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    this.client.defineCommand('rlFixedWindowBatch', { lua: FIXED_WINDOW_BATCH_LUA });
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
    for (const hit of hits) checkHit(hit);
    const results: HitResult[] = new Array(hits.length);
    const plans: (Plan | null)[] = hits.map((hit, i) => {
      const local = this.localResult(hit);
      if (local) results[i] = local;
      return local ? null : this.plan(hit);
    });
    if (plans.every((p) => p === null)) return results;
    if (this.client.status !== 'ready')
      throw new RedisStoreError(`redis ${this.target} is not connected (${this.client.status})`);
    const start = Date.now();
    const work =
      this.client instanceof Cluster
        ? this.runCluster(this.client, plans, results)
        : this.runGroup(this.client, plans, results);
    await withDeadline(
      work,
      this.commandTimeoutMs,
      () => `redis ${this.target}: no answer within ${this.commandTimeoutMs} ms (${Date.now() - start} ms)`,
    );
    return results;
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

  private plan(hit: Hit): Plan {
    const now = Math.floor(hit.nowMs);
    switch (hit.algorithm) {
      case 'fixed_window': {
        const key = fixedWindowKey(this.keyPrefix, hit);
        if (hit.hits === 0) {
          return {
            slotKey: key,
            replies: 1,
            enqueue: (p) => p.get(key),
            read: (r) => fixedWindowResult(hit, r[0] === null ? 0 : toInt(r[0], `GET ${key}`)),
          };
        }
        const ttlSeconds = fixedWindowExpireSeconds(hit);
        return {
          slotKey: key,
          replies: 2,
          increment: { key, hits: hit.hits, ttlSeconds },
          enqueue: (p) => p.incrby(key, hit.hits).expire(key, ttlSeconds),
          read: (r) => fixedWindowResult(hit, toInt(r[0], `INCRBY ${key}`)),
        };
      }
      case 'sliding_window': {
        const [cur, prev] = slidingWindowKeys(this.keyPrefix, hit);
        return {
          slotKey: cur,
          replies: 1,
          enqueue: (p) =>
            p.rlSlidingWindow(
              cur,
              prev,
              hit.limit,
              hit.hits,
              now,
              hit.window.startSeconds * 1000,
              hit.window.lengthSeconds * 1000,
              TTL_MARGIN_MS,
            ),
          read: (r) => scriptResult(r[0], `sliding window ${cur}`),
        };
      }
      case 'token_bucket': {
        const key = tokenBucketKey(this.keyPrefix, hit);
        return {
          slotKey: key,
          replies: 1,
          enqueue: (p) =>
            p.rlTokenBucket(key, hit.limit, hit.hits, now, hit.window.lengthSeconds * 1000, TTL_MARGIN_MS),
          read: (r) => scriptResult(r[0], `token bucket ${key}`),
        };
      }
    }
  }

  /** The given plans (indexes into results) in the next shared pipeline; rejects on the first command error. */
  private async runGroup(
    client: Redis | Cluster,
    plans: (Plan | null)[],
    results: HitResult[],
    only?: number[],
    group = '',
  ): Promise<void> {
    const order = only ?? plans.map((_, i) => i);
    const used: number[] = [];
    const mine: Plan[] = [];
    for (const i of order) {
      const plan = plans[i];
      if (!plan) continue;
      used.push(i);
      mine.push(plan);
    }
    if (mine.length === 0) return;
    const replies = await this.enqueue(client, group, mine);
    let at = 0;
    for (const i of used) {
      const plan = plans[i]!;
      const slice = replies.slice(at, at + plan.replies);
      at += plan.replies;
      const failed = slice.find(([err]) => err);
      if (failed) throw new RedisStoreError(`redis ${this.target}: ${describeError(failed[0]!)}`);
      results[i] = plan.read(slice.map(([, v]) => v));
    }
  }

  /** Queues plans for the pipeline of `group` sent at the end of this turn of the event loop. */
  private enqueue(client: Redis | Cluster, group: string, plans: Plan[]): Promise<[Error | null, unknown][]> {
    return new Promise((resolve, reject) => {
      const q = this.queues.get(group);
      if (q) q.push({ plans, resolve, reject });
      else this.queues.set(group, [{ plans, resolve, reject }]);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush(client));
      }
    });
  }

  private flush(client: Redis | Cluster): void {
    this.flushScheduled = false;
    const groups = [...this.queues.values()];
    this.queues.clear();
    for (const batch of groups) {
      if (!(client instanceof Cluster) && batch.every((item) => item.plans.every((plan) => plan.increment))) {
        this.sendIncrements(client, batch);
        continue;
      }
      const p = client.pipeline() as ScriptCommander;
      for (const item of batch) for (const plan of item.plans) plan.enqueue(p);
      p.exec().then(
        (replies) => {
          if (!replies) {
            const e = new RedisStoreError(`redis ${this.target}: pipeline aborted`);
            for (const item of batch) item.reject(e);
            return;
          }
          let at = 0;
          for (const item of batch) {
            let n = 0;
            for (const plan of item.plans) n += plan.replies;
            item.resolve(replies.slice(at, at + n));
            at += n;
          }
        },
        (e: Error) => {
          for (const item of batch) item.reject(e);
        },
      );
    }
  }

  /** Calls whose plans are all fixed-window increments: FIXED_WINDOW_BATCH_LUA, replies shaped as the pipeline's. */
  private sendIncrements(client: Redis, batch: Queued[]): void {
    let chunk: Queued[] = [];
    let keys = 0;
    const send = () => {
      const items = chunk;
      const names: string[] = [];
      const args: number[] = [];
      for (const item of items)
        for (const plan of item.plans) {
          const inc = plan.increment!;
          names.push(inc.key);
          args.push(inc.hits, inc.ttlSeconds);
        }
      (client as unknown as BatchClient).rlFixedWindowBatch(names.length, ...names, ...args).then(
        (counts) => {
          if (!Array.isArray(counts) || counts.length !== names.length) {
            const e = new RedisStoreError(`redis ${this.target}: unexpected reply to the fixed window script`);
            for (const item of items) item.reject(e);
            return;
          }
          let at = 0;
          for (const item of items) {
            const replies: [Error | null, unknown][] = [];
            for (const _ of item.plans) {
              const n = counts[at++];
              replies.push(n instanceof Error ? [n, null] : [null, n], [null, 1]);
            }
            item.resolve(replies);
          }
        },
        (e: Error) => {
          for (const item of items) item.reject(e);
        },
      );
      chunk = [];
      keys = 0;
    };
    for (const item of batch) {
      if (keys > 0 && keys + item.plans.length > MAX_BATCH_KEYS) send();
      chunk.push(item);
      keys += item.plans.length;
    }
    if (chunk.length) send();
  }

  private async runCluster(cluster: Cluster, plans: (Plan | null)[], results: HitResult[]): Promise<void> {
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
      await Promise.all([...groups.entries()].map(([id, only]) => this.runGroup(cluster, plans, results, only, id)));
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
