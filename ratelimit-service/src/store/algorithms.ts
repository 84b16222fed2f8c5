// The arithmetic of the three algorithms, shared by every store so that they answer exactly alike.
// MemoryStore calls these functions directly; the Lua scripts in redis-scripts.ts are line-by-line
// transliterations of slidingWindow() and tokenBucket() (same operations in the same order, so the same
// IEEE-754 doubles come out of both: Redis' Lua 5.1 numbers are doubles too). Change both together; the
// differential test in store-behaviour.test.ts replays random traffic on both and compares.
//
// Clock: every function works on the Hit's nowMs (the service's clock, floored to whole ms), never on
// Redis TIME. One ShouldRateLimit call then sees one instant for all its hits, results are reproducible
// in tests, and replicas agree as long as their clocks are NTP-synced (a replica whose clock runs δ ms
// late sees token buckets δ ms fuller/emptier; sliding windows shift by δ). TTLs are relative
// (PEXPIRE/EXPIRE from the moment the command runs), so they do not depend on clock agreement.
import type { Hit, HitResult } from './store.js';

/** Extra seconds a fixed-window key may outlive its window (EXPIRE = length + random [0, 5]). */
export const FIXED_WINDOW_EXPIRE_JITTER_SECONDS = 5;
/** Extra ms a sliding-window or token-bucket key outlives the moment it stops mattering. */
export const TTL_MARGIN_MS = 1000;

// ---------------------------------------------------------------------------------------------------
// Key layout (prefix = the store's keyPrefix, '' by default; Hit.key already ends with "_")
//
//   fixed_window   <prefix><key><windowStart>               envoyproxy/ratelimit's exact layout (INCRBY+EXPIRE)
//   sliding_window <prefix>{<key>}sw:<windowEnd>            one counter per window, named by the window's END
//                  <prefix>{<key>}sw:<windowStart>          ... so the previous window's counter is the one
//                                                           ending where the current one starts (exact for
//                                                           calendar months, whose lengths differ)
//   token_bucket   <prefix>{<key>}tb:<lengthSeconds>        value "<tatMs>:<tatRemainder>" (see tokenBucket)
//
// The {...} hash tag makes the two sliding-window keys of a hit share a Redis Cluster slot. Redis hashes
// the text between the first "{" and the first "}" after it; a key containing "}" still gives both keys
// the same (shorter) tag, and an empty tag (key empty or starting with "}") is avoided with a "~".
// Caveat shared with envoyproxy's own layout: the window length is not part of the key, so two limits on
// identical descriptor entries with different units could meet on one counter at a common boundary.
// ---------------------------------------------------------------------------------------------------

export function fixedWindowKey(prefix: string, hit: Hit): string {
  return prefix + hit.key + hit.window.startSeconds;
}

function hashTag(key: string): string {
  return key === '' || key.startsWith('}') ? '{~' + key + '}' : '{' + key + '}';
}

/** [current window, previous window] */
export function slidingWindowKeys(prefix: string, hit: Hit): [string, string] {
  const base = prefix + hashTag(hit.key) + 'sw:';
  const { startSeconds, lengthSeconds } = hit.window;
  return [base + (startSeconds + lengthSeconds), base + startSeconds];
}

export function tokenBucketKey(prefix: string, hit: Hit): string {
  return prefix + hashTag(hit.key) + 'tb:' + hit.window.lengthSeconds;
}

/** Rejects hits that break the interface's contract (they would corrupt counters). */
export function checkHit(hit: Hit): void {
  const bad = (what: string) => new RangeError(`invalid hit for key ${JSON.stringify(hit.key)}: ${what}`);
  if (typeof hit.key !== 'string') throw bad('key is not a string');
  if (hit.algorithm !== 'fixed_window' && hit.algorithm !== 'sliding_window' && hit.algorithm !== 'token_bucket')
    throw bad(`unknown algorithm ${String(hit.algorithm)}`);
  if (!Number.isSafeInteger(hit.limit) || hit.limit < 0) throw bad(`limit ${hit.limit}`);
  if (!Number.isSafeInteger(hit.hits) || hit.hits < 0) throw bad(`hits ${hit.hits}`);
  if (!Number.isFinite(hit.nowMs) || hit.nowMs < 0) throw bad(`nowMs ${hit.nowMs}`);
  const w = hit.window;
  if (!w || !Number.isSafeInteger(w.startSeconds) || !Number.isSafeInteger(w.lengthSeconds) || w.lengthSeconds < 1)
    throw bad('window');
}

function ceilSeconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

// ---------------------------------------------------------------------------------------------------
// fixed_window (envoyproxy/ratelimit): count += hits always; over = count > limit; reset = window end.
// ---------------------------------------------------------------------------------------------------

export function fixedWindowExpireSeconds(hit: Hit): number {
  return hit.window.lengthSeconds + Math.floor(Math.random() * (FIXED_WINDOW_EXPIRE_JITTER_SECONDS + 1));
}

/** `count` is the counter after this call's INCRBY (or the current value when hits = 0). */
export function fixedWindowResult(hit: Hit, count: number): HitResult {
  const endMs = (hit.window.startSeconds + hit.window.lengthSeconds) * 1000;
  return {
    over: count > hit.limit, // envoyproxy: a count equal to the limit is still OK; 0 hits on a 0 limit too
    remaining: Math.max(0, hit.limit - count),
    // = len - now % len for epoch-aligned windows, like envoyproxy: between 1 and len.
    resetSeconds: Math.max(1, ceilSeconds(endMs - Math.floor(hit.nowMs))),
  };
}

// ---------------------------------------------------------------------------------------------------
// sliding_window: estimate = prev × (share of the previous window still inside [now - len, now]) + cur.
// ---------------------------------------------------------------------------------------------------

export interface SlidingDecision {
  result: HitResult;
  /** What to add to the current window's counter (0 or hits). */
  add: number;
  /** PEXPIRE for the current window's counter when add > 0: it must live until the next window ends. */
  ttlMs: number;
}

/** ms until a hit of `size` fits, -1 if it never can. Assumes the next window is as long as this one. */
function slidingWait(limit: number, size: number, cur: number, prev: number, elapsed: number, lenMs: number): number {
  if (limit <= 0 || size > limit) return -1;
  if (cur + size <= limit) {
    // Fits later in this window, as the previous window's share shrinks (prev > 0 here, since over).
    return Math.max(0, lenMs - elapsed - ((limit - size - cur) * lenMs) / prev);
  }
  // Only after this window ends, when this window's count becomes the shrinking previous share (cur > 0 here).
  return lenMs - elapsed + (lenMs - ((limit - size) * lenMs) / cur);
}

/**
 * resetSeconds: when over, seconds until `hits` would fit (>= 1; a hit that never can, limit 0 or
 * hits > limit, gets the time to the window end); otherwise seconds until the estimate is back to 0
 * (0 when it already is), the sliding counterpart of the token bucket's "until full".
 */
export function slidingWindow(hit: Hit, cur: number, prev: number): SlidingDecision {
  const limit = hit.limit;
  const n = hit.hits;
  const now = Math.floor(hit.nowMs);
  const startMs = hit.window.startSeconds * 1000;
  const lenMs = hit.window.lengthSeconds * 1000;
  const elapsed = Math.min(lenMs, Math.max(0, now - startMs));
  const est = (prev * (lenMs - elapsed)) / lenMs + cur;
  const over = limit === 0 || est + n > limit;
  const add = over ? 0 : n;
  const remaining = Math.max(0, Math.floor(limit - (est + add)));
  let resetMs: number;
  if (over) {
    const wait = slidingWait(limit, n, cur, prev, elapsed, lenMs);
    resetMs = wait < 0 ? startMs + lenMs - now : wait;
  } else if (cur + add > 0) resetMs = lenMs - elapsed + lenMs;
  else if (prev > 0) resetMs = lenMs - elapsed;
  else resetMs = 0;
  let resetSeconds = ceilSeconds(resetMs);
  if (over) resetSeconds = Math.max(1, resetSeconds);
  return { result: { over, remaining, resetSeconds }, add, ttlMs: startMs + 2 * lenMs - now + TTL_MARGIN_MS };
}

// ---------------------------------------------------------------------------------------------------
// token_bucket (GCRA): `limit` tokens refilled evenly over the window; one key holds the theoretical
// arrival time TAT (the moment the bucket is full again). Emission interval T = W / limit ms is usually
// fractional, so TAT is kept exactly as a pair: TAT = a + r / limit ms, a an integer ms, 0 <= r < limit.
// Arithmetic is done scaled by `limit` (d = (TAT - now) × limit), all integers: no drift however many hits.
// Allowed when d + hits × W <= W × limit (the bucket has `hits` tokens).
// ---------------------------------------------------------------------------------------------------

export interface Tat {
  a: number;
  r: number;
}

export interface BucketDecision {
  result: HitResult;
  /** New TAT to store (with PEXPIRE ttlMs), or null to leave the key alone. */
  write: (Tat & { ttlMs: number }) | null;
}

/**
 * resetSeconds: when over, seconds until `hits` tokens are available (>= 1; when hits > limit it can never
 * be, then: seconds until the bucket is full, >= 1; limit 0: the window length); otherwise seconds until
 * the bucket is full again (0 when it is full).
 */
export function tokenBucket(hit: Hit, stored: Tat | null): BucketDecision {
  const limit = hit.limit;
  if (limit === 0) return { result: { over: true, remaining: 0, resetSeconds: hit.window.lengthSeconds }, write: null };
  const n = hit.hits;
  const now = Math.floor(hit.nowMs);
  const w = hit.window.lengthSeconds * 1000;
  let a = now;
  let r = 0;
  if (stored !== null && stored.a >= now) {
    a = stored.a;
    r = stored.r;
  }
  const d = (a - now) * limit + r;
  const cap = w * limit;
  const need = n * w;
  const over = n === 0 ? d > cap : d + need > cap;
  let dAfter = d;
  let write: BucketDecision['write'] = null;
  if (!over && n > 0) {
    const total = r + need;
    const q = Math.floor(total / limit);
    dAfter = d + need;
    write = { a: a + q, r: total - q * limit, ttlMs: Math.ceil(dAfter / limit) + TTL_MARGIN_MS };
  }
  const remaining = Math.max(0, Math.floor((cap - dAfter) / w));
  let resetSeconds: number;
  if (!over) resetSeconds = Math.ceil(dAfter / (limit * 1000));
  else if (n > limit) resetSeconds = Math.max(1, Math.ceil(d / (limit * 1000)));
  else resetSeconds = Math.max(1, Math.ceil((d + need - cap) / (limit * 1000)));
  return { result: { over, remaining, resetSeconds }, write };
}
