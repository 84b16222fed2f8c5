// One table of behaviour cases, run against every CounterStore: MemoryStore, and RedisStore on a real
// redis-server started by the harness (skipped with a reason when redis-server is not installed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisAvailable, redisSkipReason, startRedis } from '../../../test/harness/redis-server.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { Algorithm, CounterStore, Hit, HitResult } from './store.js';

/** 2023-11-14T22:14:00Z: aligned on a minute (and on 1 s, 2 s, 4 s, 5 s, 10 s … windows). */
const T0 = 1_700_000_040_000;
const T0s = T0 / 1000;

let seq = 0;
/** A fresh counter key per case, in envoyproxy's layout (`domain_key_value_`). */
const freshKey = (tag: string) => `test_${tag}_${process.pid}_${Date.now()}_${++seq}_`;

function hit(
  key: string,
  algorithm: Algorithm,
  limit: number,
  lengthSeconds: number,
  hits: number,
  nowMs: number,
): Hit {
  const startSeconds = Math.floor(nowMs / 1000 / lengthSeconds) * lengthSeconds;
  return { key, algorithm, limit, window: { startSeconds, lengthSeconds }, hits, nowMs };
}

const R = (over: boolean, remaining: number, resetSeconds: number): HitResult => ({ over, remaining, resetSeconds });

interface Env {
  store: CounterStore;
  /** The raw value stored under a store key (GET in Redis), or null. */
  raw(storeKey: string): Promise<string | null>;
  /** TTL in seconds of a store key, where the store can tell. */
  ttl?(storeKey: string): Promise<number>;
}

interface Step {
  /** [algorithm, limit, window length s, hits, ms after T0] */
  hits: [Algorithm, number, number, number, number][];
  expect: HitResult[];
}

interface Case {
  name: string;
  steps: Step[];
}

const fw = 'fixed_window' as const;
const sw = 'sliding_window' as const;
const tb = 'token_bucket' as const;

// Every step's hits apply to the case's own key. ms offsets are from T0 (minute-aligned).
const cases: Case[] = [
  // ------------------------------------------------------------------------------- fixed_window
  {
    name: 'fixed: counts up to the limit, equal is not over, then over; reset = window end',
    steps: [
      { hits: [[fw, 3, 60, 1, 10_000]], expect: [R(false, 2, 50)] },
      { hits: [[fw, 3, 60, 1, 10_000]], expect: [R(false, 1, 50)] },
      { hits: [[fw, 3, 60, 1, 20_000]], expect: [R(false, 0, 40)] },
      { hits: [[fw, 3, 60, 1, 20_500]], expect: [R(true, 0, 40)] },
      // over-limit hits are still counted (envoyproxy): the counter is past the limit
      { hits: [[fw, 3, 60, 0, 21_000]], expect: [R(true, 0, 39)] },
      // next window: a new counter
      { hits: [[fw, 3, 60, 1, 60_000]], expect: [R(false, 2, 60)] },
    ],
  },
  {
    name: 'fixed: several hits in one call apply in order; a big addend goes over at once',
    steps: [
      {
        hits: [
          [fw, 10, 60, 4, 0],
          [fw, 10, 60, 4, 0],
          [fw, 10, 60, 4, 0],
        ],
        expect: [R(false, 6, 60), R(false, 2, 60), R(true, 0, 60)],
      },
      { hits: [[fw, 10, 60, 0, 59_001]], expect: [R(true, 0, 1)] },
    ],
  },
  {
    name: 'fixed: hits=0 reports without counting',
    steps: [
      { hits: [[fw, 5, 60, 0, 1_000]], expect: [R(false, 5, 59)] },
      { hits: [[fw, 5, 60, 2, 1_000]], expect: [R(false, 3, 59)] },
      {
        hits: [
          [fw, 5, 60, 0, 1_000],
          [fw, 5, 60, 0, 1_000],
        ],
        expect: [R(false, 3, 59), R(false, 3, 59)],
      },
    ],
  },
  {
    name: 'fixed: limit 0 rejects every hit; a 0-hit check stays OK (as upstream)',
    steps: [
      { hits: [[fw, 0, 60, 0, 1_000]], expect: [R(false, 0, 59)] },
      { hits: [[fw, 0, 60, 1, 1_000]], expect: [R(true, 0, 59)] },
      { hits: [[fw, 0, 60, 0, 1_000]], expect: [R(true, 0, 59)] },
    ],
  },
  {
    name: 'fixed: other units (per second: reset 1; per hour)',
    steps: [
      {
        hits: [
          [fw, 1, 1, 1, 999],
          [fw, 1, 1, 1, 999],
        ],
        expect: [R(false, 0, 1), R(true, 0, 1)],
      },
      { hits: [[fw, 2, 3600, 1, 1_800_000]], expect: [R(false, 1, 960)] },
    ],
  },
  // ----------------------------------------------------------------------------- sliding_window
  {
    name: 'sliding: full window; a further hit fits only once the window has slid',
    steps: [
      // allowed: reset = until the estimate is back to 0 (end of the next window)
      { hits: [[sw, 10, 60, 10, 1_000]], expect: [R(false, 0, 119)] },
      // over: needs the next window 6 s in (10 × 54/60 = 9, + 1 = 10)
      { hits: [[sw, 10, 60, 1, 1_000]], expect: [R(true, 0, 65)] },
      { hits: [[sw, 10, 60, 1, 65_999]], expect: [R(true, 0, 1)] },
      { hits: [[sw, 10, 60, 1, 66_000]], expect: [R(false, 0, 114)] },
    ],
  },
  {
    name: 'sliding: estimate across the window boundary (previous × remaining share + current)',
    steps: [
      { hits: [[sw, 10, 60, 10, 30_000]], expect: [R(false, 0, 90)] },
      // 15 s into the next window: 10 × 45/60 = 7.5; + 2 = 9.5 <= 10: allowed, floor(0.5) = 0 left
      { hits: [[sw, 10, 60, 2, 75_000]], expect: [R(false, 0, 105)] },
      // 9.5 + 1 > 10: over, not counted; one fits 3 s later (10 × 42/60 + 2 + 1 = 10)
      { hits: [[sw, 10, 60, 1, 75_000]], expect: [R(true, 0, 3)] },
      { hits: [[sw, 10, 60, 1, 78_000]], expect: [R(false, 0, 102)] },
      // hits=0: the estimate is exactly 10, not past the limit
      { hits: [[sw, 10, 60, 0, 78_000]], expect: [R(false, 0, 102)] },
      // only the previous window (3 counted) left: 3 × 50/60 = 2.5; back to 0 when this window ends
      { hits: [[sw, 10, 60, 0, 130_000]], expect: [R(false, 7, 50)] },
    ],
  },
  {
    name: 'sliding: only allowed hits are counted',
    steps: [
      {
        hits: [
          [sw, 5, 60, 3, 0],
          [sw, 5, 60, 3, 0],
          [sw, 5, 60, 2, 0],
        ],
        expect: [R(false, 2, 120), R(true, 2, 80), R(false, 0, 120)],
      },
    ],
  },
  {
    name: 'sliding: hits=0 on an empty counter; limit 0; hits above the limit',
    steps: [
      { hits: [[sw, 10, 60, 0, 10_000]], expect: [R(false, 10, 0)] },
      {
        hits: [
          [sw, 0, 60, 0, 10_000],
          [sw, 0, 60, 1, 10_000],
        ],
        expect: [R(true, 0, 50), R(true, 0, 50)],
      },
      { hits: [[sw, 5, 60, 6, 10_000]], expect: [R(true, 5, 50)] },
    ],
  },
  {
    name: 'sliding: a window two windows back no longer counts',
    steps: [
      { hits: [[sw, 10, 60, 10, 10_000]], expect: [R(false, 0, 110)] },
      { hits: [[sw, 10, 60, 10, 130_000]], expect: [R(false, 0, 110)] },
    ],
  },
  // ------------------------------------------------------------------------------- token_bucket
  {
    name: 'token bucket: burst = limit, then over; reset = until the tokens are there / until full',
    steps: [
      { hits: [[tb, 10, 60, 1, 0]], expect: [R(false, 9, 6)] },
      { hits: [[tb, 10, 60, 9, 0]], expect: [R(false, 0, 60)] },
      { hits: [[tb, 10, 60, 1, 0]], expect: [R(true, 0, 6)] },
      { hits: [[tb, 10, 60, 0, 0]], expect: [R(false, 0, 60)] },
    ],
  },
  {
    name: 'token bucket: refills evenly over the window',
    steps: [
      { hits: [[tb, 10, 60, 10, 0]], expect: [R(false, 0, 60)] },
      // 12 s later: 2 tokens back
      { hits: [[tb, 10, 60, 1, 12_000]], expect: [R(false, 1, 54)] },
      { hits: [[tb, 10, 60, 2, 12_000]], expect: [R(true, 1, 6)] },
      { hits: [[tb, 10, 60, 1, 12_000]], expect: [R(false, 0, 60)] },
      { hits: [[tb, 10, 60, 1, 17_999]], expect: [R(true, 0, 1)] },
      { hits: [[tb, 10, 60, 1, 18_000]], expect: [R(false, 0, 60)] },
      // a long idle time does not overfill the bucket
      { hits: [[tb, 10, 60, 0, 600_000]], expect: [R(false, 10, 0)] },
      { hits: [[tb, 10, 60, 11, 600_000]], expect: [R(true, 10, 1)] },
    ],
  },
  {
    name: 'token bucket: fractional emission interval stays exact (3 per second)',
    steps: [
      { hits: [[tb, 3, 1, 3, 0]], expect: [R(false, 0, 1)] },
      { hits: [[tb, 3, 1, 1, 0]], expect: [R(true, 0, 1)] },
      // one token every 333.33… ms
      { hits: [[tb, 3, 1, 1, 333]], expect: [R(true, 0, 1)] },
      { hits: [[tb, 3, 1, 1, 334]], expect: [R(false, 0, 1)] },
      { hits: [[tb, 3, 1, 1, 666]], expect: [R(true, 0, 1)] },
      { hits: [[tb, 3, 1, 1, 667]], expect: [R(false, 0, 1)] },
      { hits: [[tb, 3, 1, 0, 2_000]], expect: [R(false, 3, 0)] },
    ],
  },
  {
    name: 'token bucket: 997 single hits per 7 s all fit, the 998th does not (no drift)',
    steps: [
      {
        hits: Array.from({ length: 998 }, () => [tb, 997, 7, 1, 0] as [Algorithm, number, number, number, number]),
        expect: [
          ...Array.from({ length: 997 }, (_, i) => R(false, 996 - i, Math.ceil(((i + 1) * 7000) / 997 / 1000))),
          R(true, 0, 1),
        ],
      },
    ],
  },
  {
    name: 'token bucket: limit 0',
    steps: [
      {
        hits: [
          [tb, 0, 60, 1, 0],
          [tb, 0, 60, 0, 0],
        ],
        expect: [R(true, 0, 60), R(true, 0, 60)],
      },
    ],
  },
  {
    name: 'mixed algorithms in one call answer in order',
    steps: [
      {
        hits: [
          [fw, 2, 60, 1, 5_000],
          [sw, 2, 60, 1, 5_000],
          [tb, 2, 60, 1, 5_000],
          [fw, 2, 60, 2, 5_000],
          [sw, 2, 60, 2, 5_000],
          [tb, 2, 60, 2, 5_000],
        ],
        expect: [R(false, 1, 55), R(false, 1, 115), R(false, 1, 30), R(true, 0, 55), R(true, 1, 115), R(true, 1, 30)],
      },
    ],
  },
];

interface EnvSpec {
  name: string;
  skip: string;
  setup(): Promise<{ env: Env; teardown(): Promise<void> }>;
}

function memoryEnv(): EnvSpec {
  return {
    name: 'MemoryStore',
    skip: '',
    async setup() {
      const store = new MemoryStore();
      const raw = async (k: string) => {
        const v = store.peek(k);
        return v === undefined ? null : typeof v === 'number' ? String(v) : `${v.a}:${v.r}`;
      };
      return { env: { store, raw }, teardown: () => store.close() };
    },
  };
}

async function waitReady(store: CounterStore, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!store.ready()) {
    if (Date.now() > deadline) throw new Error('store not ready');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function redisEnv(): EnvSpec {
  return {
    name: 'RedisStore',
    skip: redisAvailable() ? '' : redisSkipReason(),
    async setup() {
      const server: RedisServer = await startRedis();
      // Generous timeout: 200 concurrent calls on a loaded CI machine must not fail for slowness here.
      const store = new RedisStore({ urls: [server.url], cluster: false, commandTimeoutMs: 2000 });
      await waitReady(store);
      const c = store.connection;
      return {
        env: { store, raw: (k) => c.get(k), ttl: (k) => c.ttl(k) },
        teardown: async () => {
          await store.close();
          await server.stop();
        },
      };
    },
  };
}

describe.each([memoryEnv(), redisEnv()])('$name', (spec) => {
  describe.skipIf(spec.skip !== '')(spec.skip ? `skipped: ${spec.skip}` : 'behaviour', () => {
    let env: Env;
    let teardown = async () => {};
    beforeAll(async () => {
      const s = await spec.setup();
      env = s.env;
      teardown = s.teardown;
    });
    afterAll(() => teardown());

    it.each(cases)('$name', async (c) => {
      const key = freshKey('case');
      for (const [i, step] of c.steps.entries()) {
        const hits = step.hits.map(([alg, limit, len, n, dt]) => hit(key, alg, limit, len, n, T0 + dt));
        expect(await env.store.apply(hits), `step ${i}`).toEqual(step.expect);
      }
    });

    it('apply([]) answers []', async () => {
      expect(await env.store.apply([])).toEqual([]);
    });

    it('rejects malformed hits', async () => {
      const h = hit(freshKey('bad'), fw, 1, 60, 1, T0);
      await expect(env.store.apply([{ ...h, hits: -1 }])).rejects.toThrow(/hits -1/);
      await expect(env.store.apply([{ ...h, limit: 1.5 }])).rejects.toThrow(/limit 1.5/);
      await expect(env.store.apply([{ ...h, window: { startSeconds: 0, lengthSeconds: 0 } }])).rejects.toThrow(
        /window/,
      );
    });

    it('fixed_window key layout is envoyproxy’s <key><windowStart>, with EXPIRE = length + up to 5 s', async () => {
      const key = `domain_key_value_${process.pid}_${++seq}_`;
      await env.store.apply([hit(key, fw, 10, 60, 3, T0 + 30_500), hit(key, fw, 10, 3600, 2, T0 + 30_500)]);
      const hourStart = Math.floor(T0s / 3600) * 3600;
      expect(await env.raw(`${key}${T0s}`)).toBe('3');
      expect(await env.raw(`${key}${hourStart}`)).toBe('2');
      // the service's example: domain_key_value_1234 for a per-second limit at t = 1234 s
      await env.store.apply([hit(key, fw, 10, 1, 1, 1_234_567)]);
      expect(await env.raw(`${key}1234`)).toBe('1');
      if (env.ttl) {
        const ttl = await env.ttl(`${key}${T0s}`);
        expect(ttl).toBeGreaterThanOrEqual(59);
        expect(ttl).toBeLessThanOrEqual(65);
      }
    });

    it('sliding_window and token_bucket key layouts', async () => {
      const key = `domain_k_v_${process.pid}_${++seq}_`;
      await env.store.apply([hit(key, sw, 10, 60, 4, T0 + 1_000), hit(key, tb, 10, 60, 4, T0 + 1_000)]);
      expect(await env.raw(`{${key}}sw:${T0s + 60}`)).toBe('4');
      expect(await env.raw(`{${key}}sw:${T0s}`)).toBeNull();
      // TAT = now + 4 × 6 s, as "<ms>:<remainder>"
      expect(await env.raw(`{${key}}tb:60`)).toBe(`${T0 + 1_000 + 24_000}:0`);
      if (env.ttl) {
        // the current window's counter lives until the next window ends (+1 s)
        const t = await env.ttl(`{${key}}sw:${T0s + 60}`);
        expect(t).toBeGreaterThan(0);
        expect(t).toBeLessThanOrEqual(120);
      }
    });

    it.each([fw, sw, tb])(
      'exact under concurrency: 200 concurrent calls of 1 hit on a limit of 50 allow 50 (%s)',
      async (alg) => {
        const key = freshKey(`conc_${alg}`);
        const now = T0 + 5_000;
        const results = await Promise.all(
          Array.from({ length: 200 }, () => env.store.apply([hit(key, alg, 50, 60, 1, now)])),
        );
        const allowed = results.filter(([r]) => !r.over).length;
        expect(allowed).toBe(50);
        const remaining = results.filter(([r]) => !r.over).map(([r]) => r.remaining);
        expect(new Set(remaining).size).toBe(50); // each allowed call saw its own count: 49, 48, … 0
      },
    );
  });
});

// Random traffic on both stores must give identical answers: the Lua scripts and algorithms.ts agree.
describe.skipIf(!redisAvailable())(
  redisAvailable() ? 'MemoryStore and RedisStore agree' : `MemoryStore vs RedisStore (skipped: ${redisSkipReason()})`,
  () => {
    let server: RedisServer;
    let redis: RedisStore;
    let memory: MemoryStore;
    beforeAll(async () => {
      server = await startRedis();
      redis = new RedisStore({ urls: [server.url], cluster: false, commandTimeoutMs: 2000 });
      memory = new MemoryStore();
      await waitReady(redis);
    });
    afterAll(async () => {
      await redis?.close();
      await memory?.close();
      await server?.stop();
    });

    it('on 3000 random hits (seeded)', async () => {
      let s = 12345;
      const rnd = (n: number) => {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        return (s >>> 8) % n;
      };
      const algs: Algorithm[] = [fw, sw, tb];
      const keys = Array.from({ length: 6 }, (_, i) => ({
        key: freshKey(`diff${i}`),
        alg: algs[i % 3],
        limit: [0, 1, 3, 7, 50, 1000][rnd(6)],
        len: [1, 7, 60][rnd(3)],
      }));
      let now = T0 + 123;
      let calls = 0;
      const tally: Record<string, number> = {};
      for (let done = 0; done < 3000; calls++) {
        now += [0, 0, 1, 17, 250, 999, 4_000, 45_000][rnd(8)];
        const batch: Hit[] = [];
        for (let j = 1 + rnd(4); j > 0; j--, done++) {
          const k = keys[rnd(keys.length)];
          batch.push(hit(k.key, k.alg, k.limit, k.len, [0, 1, 1, 1, 2, 5, 60][rnd(7)], now));
        }
        const [a, b] = await Promise.all([memory.apply(batch), redis.apply(batch)]);
        expect(b, `call ${calls} at +${now - T0} ms: ${JSON.stringify(batch)}`).toEqual(a);
        batch.forEach((h, j) => {
          const name = `${h.algorithm} ${a[j].over ? 'over' : 'allowed'}`;
          tally[name] = (tally[name] ?? 0) + 1;
        });
      }
      // the traffic exercised both outcomes of every algorithm
      for (const alg of algs) {
        for (const o of ['over', 'allowed']) expect(tally[`${alg} ${o}`] ?? 0, `${alg} ${o}`).toBeGreaterThan(50);
      }
    });
  },
);
