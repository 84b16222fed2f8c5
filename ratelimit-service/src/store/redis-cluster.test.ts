// RedisStore on a real 3-master Redis Cluster (no replicas): hits spread over slots of every master in
// one call; then one master dies, and calls that only touch the others keep working while calls that
// touch it reject quickly instead of hanging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedisCluster,
  redisClusterAvailable,
  redisCommand,
  redisSkipReason,
  startRedisCluster,
} from '../../../test/harness/redis-server.js';
import { fixedWindowKey, slidingWindowKeys, tokenBucketKey } from './algorithms.js';
import { keySlot } from './key-slot.js';
import { RedisStore } from './redis-store.js';
import type { Algorithm, Hit } from './store.js';

const COMMAND_TIMEOUT_MS = 200;
const ALGS: Algorithm[] = ['fixed_window', 'sliding_window', 'token_bucket'];

function hit(key: string, algorithm: Algorithm, limit: number, hits: number, nowMs: number): Hit {
  const startSeconds = Math.floor(nowMs / 60_000) * 60;
  return { key, algorithm, limit, window: { startSeconds, lengthSeconds: 60 }, hits, nowMs };
}

function storeKey(h: Hit): string {
  if (h.algorithm === 'fixed_window') return fixedWindowKey('', h);
  if (h.algorithm === 'sliding_window') return slidingWindowKeys('', h)[0];
  return tokenBucketKey('', h);
}

const available = redisClusterAvailable();

describe.skipIf(!available)(available ? 'RedisStore on Redis Cluster' : `skipped: ${redisSkipReason(true)}`, () => {
  let cluster: RedisCluster;
  let store: RedisStore;
  const now = Date.now();
  let n = 0;

  /** A hit of the given algorithm whose key lives on master `node`. */
  function hitOn(node: number, algorithm: Algorithm, limit = 100, hits = 1): Hit {
    for (;;) {
      const h = hit(`clu_${process.pid}_${++n}_`, algorithm, limit, hits, now);
      if (cluster.nodeOfSlot(keySlot(storeKey(h))) === node) return h;
    }
  }

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    const seeds = cluster.nodes.map((x) => `127.0.0.1:${x.port}`).join(',');
    store = RedisStore.fromUrl(`redis+cluster://${seeds}`, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
    expect(store.kind).toBe('redis-cluster');
    const deadline = Date.now() + 10_000;
    while (!store.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(store.ready()).toBe(true);
  });

  afterAll(async () => {
    await store?.close();
    await cluster?.stop();
  });

  it('applies hits whose keys are on every master, in one call, and stores them on the right node', async () => {
    const hits = [0, 1, 2].flatMap((node) => ALGS.map((alg) => hitOn(node, alg, 10, 3)));
    const slots = new Set(hits.map((h) => keySlot(storeKey(h))));
    expect(slots.size).toBe(hits.length);
    const results = await store.apply(hits);
    expect(results.map((r) => [r.over, r.remaining])).toEqual(hits.map(() => [false, 7]));
    for (const h of hits) {
      const node = cluster.nodes[cluster.nodeOfSlot(keySlot(storeKey(h)))];
      const v = String(await redisCommand(node.port, 'GET', storeKey(h)));
      expect(v, storeKey(h)).toMatch(h.algorithm === 'token_bucket' ? /^\d+:\d+$/ : /^3$/);
    }
  });

  it('stays exact: 200 concurrent calls of 1 hit on a limit of 50 allow 50', async () => {
    for (const alg of ALGS) {
      const h = hitOn(1, alg, 50, 1);
      const res = await Promise.all(Array.from({ length: 200 }, () => store.apply([h])));
      expect(res.filter(([r]) => !r.over).length, alg).toBe(50);
    }
  });

  it('with one master dead: calls on the others work, calls touching it reject in < 1 s', async () => {
    await cluster.killNode(2);
    const killedAt = Date.now();
    const healthyLatencies: number[] = [];
    const deadLatencies: number[] = [];
    const failures: string[] = [];
    // Long enough to cover the cluster marking the node as failed (node timeout 2 s).
    for (let i = 0; i < 200 && Date.now() - killedAt < 4_000; i++) {
      const healthy = [hitOn(0, ALGS[i % 3]), hitOn(1, ALGS[(i + 1) % 3])];
      let t = Date.now();
      try {
        const r = await store.apply(healthy);
        expect(r).toHaveLength(2);
      } catch (e) {
        failures.push(`+${t - killedAt} ms: ${(e as Error).message}`);
      }
      healthyLatencies.push(Date.now() - t);

      const touchingDead = [hitOn(0, ALGS[i % 3]), hitOn(2, ALGS[(i + 2) % 3])];
      t = Date.now();
      const err = await store.apply(touchingDead).then(
        () => null,
        (e: Error) => e.message,
      );
      expect(err).not.toBeNull();
      deadLatencies.push(Date.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
    console.info(
      `cluster, node 2 dead: ${healthyLatencies.length} rounds; healthy calls max ${Math.max(...healthyLatencies)} ms, ` +
        `failed ${failures.length}; calls touching the dead node rejected in max ${Math.max(...deadLatencies)} ms`,
    );
    expect(failures).toEqual([]);
    expect(Math.max(...deadLatencies)).toBeLessThan(1000);
  });
});
