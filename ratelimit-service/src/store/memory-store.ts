// In-process counters: one replica only (tests, development, single-instance deployments). Same
// semantics and the same key layout as RedisStore (see algorithms.ts), so behaviour tests run on both.
import {
  checkHit,
  fixedWindowKey,
  fixedWindowResult,
  slidingWindow,
  slidingWindowKeys,
  type Tat,
  tokenBucket,
  tokenBucketKey,
} from './algorithms.js';
import type { CounterStore, Hit, HitResult } from './store.js';

export interface MemoryStoreOptions {
  /** Upper bound on stored counters (default 1,000,000). When full, expired ones are swept, then the oldest go. */
  maxEntries?: number;
  /** Period of the background sweep of expired counters (default 10 s; the timer is unref'd). */
  sweepIntervalMs?: number;
  /** Real clock for expirations (default Date.now). Decisions use Hit.nowMs, like the Redis scripts. */
  clock?: () => number;
}

interface Entry {
  value: number | Tat;
  /** By `clock`, like a Redis TTL: relative to when the entry was written, not to Hit.nowMs. */
  expiresAt: number;
}

export class MemoryStore implements CounterStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly clock: () => number;
  private readonly timer: NodeJS.Timeout;
  private lastSweep = 0;
  private closed = false;

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? 1_000_000);
    this.clock = opts.clock ?? Date.now;
    this.timer = setInterval(() => this.sweep(), opts.sweepIntervalMs ?? 10_000);
    this.timer.unref();
  }

  apply(hits: Hit[]): Promise<HitResult[]> {
    if (this.closed) return Promise.reject(new Error('memory store is closed'));
    try {
      for (const hit of hits) checkHit(hit);
      // Synchronous: the whole call is atomic with respect to every other call.
      return Promise.resolve(hits.map((hit) => this.applyOne(hit)));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  ready(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.entries.clear();
  }

  /** Number of live and not yet swept counters. */
  get size(): number {
    return this.entries.size;
  }

  /** The raw value under a store key (same layout as in Redis), for tests and debugging. */
  peek(storeKey: string): number | Tat | undefined {
    return this.read(storeKey, this.clock());
  }

  /** Drops expired counters. Runs periodically and when the store is full. */
  sweep(): void {
    const now = this.clock();
    this.lastSweep = now;
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }

  private applyOne(hit: Hit): HitResult {
    const now = this.clock();
    switch (hit.algorithm) {
      case 'fixed_window': {
        const key = fixedWindowKey('', hit);
        const count = ((this.read(key, now) as number | undefined) ?? 0) + hit.hits;
        if (hit.hits > 0) this.write(key, count, now + hit.window.lengthSeconds * 1000, now);
        return fixedWindowResult(hit, count);
      }
      case 'sliding_window': {
        const [curKey, prevKey] = slidingWindowKeys('', hit);
        const cur = (this.read(curKey, now) as number | undefined) ?? 0;
        const prev = (this.read(prevKey, now) as number | undefined) ?? 0;
        const d = slidingWindow(hit, cur, prev);
        if (d.add > 0) this.write(curKey, cur + d.add, now + d.ttlMs, now);
        return d.result;
      }
      case 'token_bucket': {
        const key = tokenBucketKey('', hit);
        const d = tokenBucket(hit, (this.read(key, now) as Tat | undefined) ?? null);
        if (d.write) this.write(key, { a: d.write.a, r: d.write.r }, now + d.write.ttlMs, now);
        return d.result;
      }
    }
  }

  private read(key: string, now: number): number | Tat | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  private write(key: string, value: number | Tat, expiresAt: number, now: number): void {
    const e = this.entries.get(key);
    if (e !== undefined) {
      e.value = value;
      e.expiresAt = expiresAt;
      return;
    }
    if (this.entries.size >= this.maxEntries) {
      // At most one full scan per second; then evict in insertion order (oldest counters first).
      if (now - this.lastSweep >= 1000) this.sweep();
      for (const k of this.entries.keys()) {
        if (this.entries.size < this.maxEntries) break;
        this.entries.delete(k);
      }
    }
    this.entries.set(key, { value, expiresAt });
  }
}
