// How one hit goes over the wire to Redis: the commands it appends to a pipeline (or, for a fixed-window
// increment, its share of FIXED_WINDOW_BATCH_LUA), and how its result is read from the first reply.
// One small class per command shape: a plan is made for every hit of every call.
import type { ChainableCommander } from 'ioredis';
import {
  fixedWindowExpireSeconds,
  fixedWindowKey,
  fixedWindowResult,
  slidingWindowKeys,
  TTL_MARGIN_MS,
  tokenBucketKey,
} from './algorithms.js';
import type { Hit, HitResult } from './store.js';

/** A failure of the store (connection, timeout, or an error reply); the message says which. */
export class RedisStoreError extends Error {
  override name = 'RedisStoreError';
}

export type ScriptCommander = ChainableCommander & {
  rlSlidingWindow(k1: string, k2: string, ...args: (string | number)[]): ChainableCommander;
  rlTokenBucket(k1: string, ...args: (string | number)[]): ChainableCommander;
};

export interface Plan {
  /** Key that decides the Cluster slot. */
  readonly slotKey: string;
  /** Number of pipeline replies it takes (its result is read from the first). */
  readonly replies: number;
  /** Set on fixed-window increments (INCRBY + EXPIRE): they may go in FIXED_WINDOW_BATCH_LUA instead. */
  readonly ttlSeconds?: number;
  readonly hit: Hit;
  enqueue(p: ScriptCommander): void;
  read(first: unknown): HitResult;
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

/** INCRBY key hits, EXPIRE key ttl: envoyproxy/ratelimit's commands and key. */
class FixedWindowIncrement implements Plan {
  readonly replies = 2;
  readonly ttlSeconds: number;
  constructor(
    readonly hit: Hit,
    readonly slotKey: string,
  ) {
    this.ttlSeconds = fixedWindowExpireSeconds(hit);
  }
  enqueue(p: ScriptCommander): void {
    p.incrby(this.slotKey, this.hit.hits).expire(this.slotKey, this.ttlSeconds);
  }
  read(first: unknown): HitResult {
    return fixedWindowResult(this.hit, toInt(first, `INCRBY ${this.slotKey}`));
  }
}

/** hits_addend 0: read the counter without creating it. */
class FixedWindowRead implements Plan {
  readonly replies = 1;
  constructor(
    readonly hit: Hit,
    readonly slotKey: string,
  ) {}
  enqueue(p: ScriptCommander): void {
    p.get(this.slotKey);
  }
  read(first: unknown): HitResult {
    return fixedWindowResult(this.hit, first === null ? 0 : toInt(first, `GET ${this.slotKey}`));
  }
}

class SlidingWindow implements Plan {
  readonly replies = 1;
  readonly slotKey: string;
  private readonly previous: string;
  constructor(
    readonly hit: Hit,
    keyPrefix: string,
  ) {
    [this.slotKey, this.previous] = slidingWindowKeys(keyPrefix, hit);
  }
  enqueue(p: ScriptCommander): void {
    const h = this.hit;
    p.rlSlidingWindow(
      this.slotKey,
      this.previous,
      h.limit,
      h.hits,
      Math.floor(h.nowMs),
      h.window.startSeconds * 1000,
      h.window.lengthSeconds * 1000,
      TTL_MARGIN_MS,
    );
  }
  read(first: unknown): HitResult {
    return scriptResult(first, `sliding window ${this.slotKey}`);
  }
}

class TokenBucket implements Plan {
  readonly replies = 1;
  readonly slotKey: string;
  constructor(
    readonly hit: Hit,
    keyPrefix: string,
  ) {
    this.slotKey = tokenBucketKey(keyPrefix, hit);
  }
  enqueue(p: ScriptCommander): void {
    const h = this.hit;
    p.rlTokenBucket(this.slotKey, h.limit, h.hits, Math.floor(h.nowMs), h.window.lengthSeconds * 1000, TTL_MARGIN_MS);
  }
  read(first: unknown): HitResult {
    return scriptResult(first, `token bucket ${this.slotKey}`);
  }
}

export function planFor(hit: Hit, keyPrefix: string): Plan {
  switch (hit.algorithm) {
    case 'fixed_window': {
      const key = fixedWindowKey(keyPrefix, hit);
      return hit.hits === 0 ? new FixedWindowRead(hit, key) : new FixedWindowIncrement(hit, key);
    }
    case 'sliding_window':
      return new SlidingWindow(hit, keyPrefix);
    case 'token_bucket':
      return new TokenBucket(hit, keyPrefix);
  }
}
