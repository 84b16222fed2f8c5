// Where counters live. The service turns every limited descriptor of one ShouldRateLimit call into
// a Hit and hands them all to the store in one call: one round trip to Redis, whatever their number.

export type Algorithm = 'fixed_window' | 'sliding_window' | 'token_bucket';

export interface Hit {
  /**
   * The counter's key without any window suffix, in envoyproxy/ratelimit's layout:
   * `<prefix><domain>_<key>_<value>_..._` (entries each followed by "_"). Stores append what their
   * algorithm needs: fixed_window appends the window start in Unix seconds, exactly like
   * envoyproxy/ratelimit (`domain_key_value_1700000000`), so a migration keeps its counters.
   */
  key: string;
  algorithm: Algorithm;
  /** requests_per_unit (>= 0). */
  limit: number;
  /** Window length: seconds of the unit; for calendar months, the start and end of the current month. */
  window: { startSeconds: number; lengthSeconds: number };
  /** How much this call adds (LLM tokens, or 1 per request); 0 checks without counting. */
  hits: number;
  /** Clock of the call, ms since the epoch (the service passes the same value for every hit). */
  nowMs: number;
}

export interface HitResult {
  /** Over the limit after this call (for fixed_window: the count after adding exceeds the limit). */
  over: boolean;
  /** What is left in the window (or bucket) after this call, >= 0. */
  remaining: number;
  /** Seconds until the counter resets (fixed window: the window end; others: until one more hit fits). >= 1 when over. */
  resetSeconds: number;
}

export interface CounterStore {
  readonly kind: 'memory' | 'redis' | 'redis-cluster';
  /** Applies every hit atomically per key and answers in the same order. Rejects on a store failure. */
  apply(hits: Hit[]): Promise<HitResult[]>;
  /** True while the store can serve (connected). */
  ready(): boolean;
  close(): Promise<void>;
}

/**
 * Semantics every store implements exactly (the behaviour suite runs the same cases on each):
 * - fixed_window (envoyproxy/ratelimit): count += hits, always (also when over);
 *   over = count > limit; remaining = max(0, limit - count); reset = window end - now.
 *   Redis: INCRBY key_<windowStart> hits + EXPIRE (window length + up to 5 s); pipelined.
 * - sliding_window: estimate = previous window's count × (share of the previous window still in
 *   the sliding window) + current count. Allowed when estimate + hits <= limit, and only allowed
 *   hits are counted. over = not allowed. remaining = floor(limit - estimate after). Atomic (Lua).
 * - token_bucket (GCRA): a bucket of `limit` tokens refilled evenly over the window. Allowed when
 *   `hits` tokens are available; only allowed hits take tokens. remaining = whole tokens left.
 *   resetSeconds = ceil(time until `hits` tokens are available) when over, else time until full.
 *   Atomic (Lua), one key holding the theoretical arrival time.
 * - hits = 0 never changes a counter: it reports the state (fixed_window: over when the counter
 *   is already past the limit, as upstream; the others: over when the limit is 0 or used up).
 * - limit = 0: every hit > 0 is over.
 */
