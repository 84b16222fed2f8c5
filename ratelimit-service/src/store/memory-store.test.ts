// MemoryStore specifics (its behaviour is covered with RedisStore's in store-behaviour.test.ts):
// expiry by the real clock, bounded size, closing.
import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';
import type { Algorithm, Hit } from './store.js';

const T0 = 1_700_000_040_000;

function hit(key: string, algorithm: Algorithm, hits = 1, nowMs = T0, lengthSeconds = 60): Hit {
  const startSeconds = Math.floor(nowMs / 1000 / lengthSeconds) * lengthSeconds;
  return { key, algorithm, limit: 10, window: { startSeconds, lengthSeconds }, hits, nowMs };
}

describe('MemoryStore', () => {
  it('expires counters by the real clock, like Redis TTLs, and sweeps them', async () => {
    let now = 0;
    const store = new MemoryStore({ clock: () => now });
    await store.apply([hit('a_', 'fixed_window', 3), hit('b_', 'sliding_window', 3), hit('c_', 'token_bucket', 3)]);
    expect(store.size).toBe(3);
    expect(store.peek(`a_${T0 / 1000}`)).toBe(3);
    // fixed window: kept for the window length after the last write
    now = 59_999;
    expect(store.peek(`a_${T0 / 1000}`)).toBe(3);
    now = 60_000;
    expect(store.peek(`a_${T0 / 1000}`)).toBeUndefined();
    // token bucket: until full again (3 × 6 s) + 1 s; sliding window: until the next window ends + 1 s
    now = 19_000;
    store.sweep();
    expect(store.size).toBe(1);
    expect(store.peek(`{b_}sw:${T0 / 1000 + 60}`)).toBe(3);
    now = 121_000;
    store.sweep();
    expect(store.size).toBe(0);
    await store.close();
  });

  it('hits = 0 stores nothing', async () => {
    const store = new MemoryStore();
    await store.apply([hit('a_', 'fixed_window', 0), hit('b_', 'sliding_window', 0), hit('c_', 'token_bucket', 0)]);
    expect(store.size).toBe(0);
    await store.close();
  });

  it('stays within maxEntries (expired first, then the oldest)', async () => {
    const now = 0;
    const store = new MemoryStore({ maxEntries: 100, clock: () => now });
    for (let i = 0; i < 1000; i++) await store.apply([hit(`k${i}_`, 'fixed_window')]);
    expect(store.size).toBe(100);
    expect(store.peek(`k999_${T0 / 1000}`)).toBe(1);
    expect(store.peek(`k0_${T0 / 1000}`)).toBeUndefined();
    await store.close();
  });

  it('rejects after close()', async () => {
    const store = new MemoryStore();
    await store.close();
    expect(store.ready()).toBe(false);
    await expect(store.apply([hit('a_', 'fixed_window')])).rejects.toThrow(/closed/);
  });
});
