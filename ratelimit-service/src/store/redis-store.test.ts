// RedisStore pieces that need no server: URL forms, Cluster slots, key layout invariants; and, on a real
// redis-server when there is one, the "one round trip per apply()" promise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisAvailable, redisSkipReason, startRedis } from '../../../test/harness/redis-server.js';
import { FIXED_WINDOW_EXPIRE_JITTER_SECONDS, slidingWindowKeys } from './algorithms.js';
import { keySlot } from './key-slot.js';
import { maskUrl, parseRedisSpec, parseRedisUrl, RedisStore } from './redis-store.js';
import type { Algorithm, Hit } from './store.js';

describe('parseRedisUrl', () => {
  it.each([
    ['redis://localhost:6380', { host: 'localhost', port: 6380, tls: false }],
    ['redis://h', { host: 'h', port: 6379, tls: false }],
    ['rediss://u:p%40ss@h:6390/2', { host: 'h', port: 6390, tls: true, username: 'u', password: 'p@ss', db: 2 }],
    ['redis://:secret@10.0.0.1:7000', { host: '10.0.0.1', port: 7000, tls: false, password: 'secret' }],
    ['redis://[::1]:7001', { host: '::1', port: 7001, tls: false }],
    ['redis://h:1?db=3&password=x&username=y', { host: 'h', port: 1, tls: false, db: 3, password: 'x', username: 'y' }],
    ['127.0.0.1:6379', { host: '127.0.0.1', port: 6379, tls: false }],
    ['unix:///var/run/redis.sock', { host: '', port: 0, tls: false, path: '/var/run/redis.sock' }],
    [
      '/var/run/nutcracker/ratelimit.sock',
      { host: '', port: 0, tls: false, path: '/var/run/nutcracker/ratelimit.sock' },
    ],
  ])('%s', (url, expected) => {
    expect(parseRedisUrl(url)).toEqual(expected);
  });

  it('rejects other schemes and bad databases', () => {
    expect(() => parseRedisUrl('http://h:1')).toThrow(/scheme "http"/);
    expect(() => parseRedisUrl('redis://h:1/x')).toThrow(/database "x"/);
  });
});

describe('parseRedisSpec / fromUrl', () => {
  it('single node forms', () => {
    expect(parseRedisSpec('redis://h:1')).toEqual({ urls: ['redis://h:1'], cluster: false });
    expect(parseRedisSpec(' h:1 ')).toEqual({ urls: ['h:1'], cluster: false });
  });

  it('redis+cluster:// with credentials shared by every seed', () => {
    expect(parseRedisSpec('redis+cluster://u:p@h1:7000,h2:7001/')).toEqual({
      urls: ['redis://u:p@h1:7000', 'redis://u:p@h2:7001'],
      cluster: true,
    });
    expect(parseRedisSpec('rediss+cluster://h1:7000')).toEqual({ urls: ['rediss://h1:7000'], cluster: true });
    expect(() => parseRedisSpec('redis+cluster://h1:7000,,h2:1')).toThrow(/invalid Redis Cluster URL/);
  });

  it('several node URLs make a cluster', () => {
    expect(parseRedisSpec('redis://a:1, redis://b:2')).toEqual({ urls: ['redis://a:1', 'redis://b:2'], cluster: true });
  });

  it('kind follows the form; a single seed can be forced to cluster', async () => {
    const opts = { connectTimeoutMs: 50 };
    const stores = [
      RedisStore.fromUrl('redis://127.0.0.1:1', opts),
      RedisStore.fromUrl('redis+cluster://127.0.0.1:1,127.0.0.1:2', opts),
      RedisStore.fromUrl('redis://127.0.0.1:1', { ...opts, cluster: true }),
    ];
    expect(stores.map((s) => s.kind)).toEqual(['redis', 'redis-cluster', 'redis-cluster']);
    for (const s of stores) {
      expect(s.ready()).toBe(false);
      await expect(s.apply([])).resolves.toEqual([]);
      await s.close();
    }
  });

  it('refuses a keyPrefix with braces and several URLs for a single node', () => {
    expect(() => new RedisStore({ urls: ['redis://h:1'], cluster: false, keyPrefix: '{x}' })).toThrow(/keyPrefix/);
    expect(() => new RedisStore({ urls: ['redis://a:1', 'redis://b:1'], cluster: false })).toThrow(/cluster: true/);
  });

  it('masks credentials like envoyproxy', () => {
    expect(maskUrl('redis://user:pass@h:1')).toBe('redis://*****@h:1');
    expect(maskUrl('redis://h:1')).toBe('redis://h:1');
  });
});

describe('keySlot', () => {
  it('matches CLUSTER KEYSLOT', () => {
    // values from redis-server 7.0 CLUSTER KEYSLOT
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('123456789')).toBe(12739);
    expect(keySlot('{}abc')).toBe(5980);
    expect(keySlot('a{b}c')).toBe(3300);
    expect(keySlot('héllo')).toBe(11061);
    expect(keySlot('{user1000}.following')).toBe(3443);
    expect(keySlot('x}y{')).toBe(8402);
  });

  it.each(['dom_k_v_', 'dom_k_{v}_', 'dom_k_}v{_', '}dom_', '', 'dom_{_', 'd{om}_k_{x}_'])(
    "a sliding window's two keys share a slot (%j)",
    (key) => {
      const h: Hit = {
        key,
        algorithm: 'sliding_window',
        limit: 1,
        window: { startSeconds: 1_700_000_040, lengthSeconds: 60 },
        hits: 1,
        nowMs: 1_700_000_040_000,
      };
      const [cur, prev] = slidingWindowKeys('pfx:', h);
      expect(cur).not.toBe(prev);
      expect(keySlot(cur)).toBe(keySlot(prev));
    },
  );
});

const available = redisAvailable();

describe.skipIf(!available)(available ? 'RedisStore round trips' : `skipped: ${redisSkipReason()}`, () => {
  let server: RedisServer;
  let store: RedisStore;
  beforeAll(async () => {
    server = await startRedis();
    store = new RedisStore({ urls: [server.url], cluster: false, keyPrefix: 'rt:', commandTimeoutMs: 2000 });
    for (let i = 0; i < 500 && !store.ready(); i++) await new Promise((r) => setTimeout(r, 10));
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('apply() calls in the same turn share one socket write, each reading only its own replies', async () => {
    const now = Date.now();
    const algs: Algorithm[] = ['fixed_window', 'sliding_window', 'token_bucket'];
    const hits = Array.from({ length: 30 }, (_, i) => ({
      key: `rt_${i}_`,
      algorithm: algs[i % 3],
      limit: 100,
      window: { startSeconds: Math.floor(now / 60_000) * 60, lengthSeconds: 60 },
      hits: i % 4,
      nowMs: now,
    }));
    await store.apply(hits); // loads the scripts on this connection
    const conn = store.connection as unknown as { stream: { write: (...a: unknown[]) => boolean } };
    const write = conn.stream.write;
    let writes = 0;
    conn.stream.write = function (this: unknown, ...a: unknown[]) {
      writes++;
      return write.apply(this, a);
    };
    const other = (n: number): Hit => ({ ...hits[0], key: `rt_other_${n}_`, hits: n });
    try {
      const [res, a, b] = await Promise.all([store.apply(hits), store.apply([other(2)]), store.apply([other(5)])]);
      expect(res).toHaveLength(30);
      expect(a.map((r) => r.remaining)).toEqual([98]);
      expect(b.map((r) => r.remaining)).toEqual([95]);
    } finally {
      conn.stream.write = write;
    }
    expect(writes).toBe(1);
    // keyPrefix goes in front of every key; hits = 0 creates no key
    const start = Math.floor(now / 60_000) * 60;
    expect(await store.connection.get(`rt:rt_3_${start}`)).toBe('6');
    expect(await store.connection.get(`rt:rt_0_${start}`)).toBeNull();
    expect(await store.connection.exists(`rt:{rt_1_}sw:${start + 60}`, `rt:{rt_2_}tb:60`)).toBe(2);
  });

  it('an error reply fails only the call it belongs to, not the others in the shared pipeline', async () => {
    const now = Date.now();
    const start = Math.floor(now / 60_000) * 60;
    const mk = (key: string): Hit => ({
      key,
      algorithm: 'fixed_window',
      limit: 10,
      window: { startSeconds: start, lengthSeconds: 60 },
      hits: 1,
      nowMs: now,
    });
    await store.connection.set(`rt:rt_bad_${start}`, 'not a number');
    const [bad, good] = await Promise.allSettled([store.apply([mk('rt_bad_')]), store.apply([mk('rt_good_')])]);
    expect(bad.status).toBe('rejected');
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/not an integer/);
    expect(good.status === 'fulfilled' && good.value.map((r) => r.remaining)).toEqual([9]);
  });

  it('a turn of fixed windows only is one script call doing INCRBY + EXPIRE per key', async () => {
    const now = Date.now();
    const start = Math.floor(now / 60_000) * 60;
    const mk = (key: string, hits: number): Hit => ({
      key,
      algorithm: 'fixed_window',
      limit: 100,
      window: { startSeconds: start, lengthSeconds: 60 },
      hits,
      nowMs: now,
    });
    await store.apply([mk('rt_fw_warm_', 1)]); // loads the script
    const stats = async () => {
      const info = await store.connection.info('commandstats');
      const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      return { evalsha: calls('evalsha'), incrby: calls('incrby'), expire: calls('expire') };
    };
    const before = await stats();
    const [a, b] = await Promise.all([
      store.apply([mk('rt_fw_a_', 3), mk('rt_fw_b_', 1)]),
      store.apply([mk('rt_fw_a_', 2)]),
    ]);
    const after = await stats();
    expect(after.evalsha - before.evalsha).toBe(1);
    expect(after.incrby - before.incrby).toBe(3);
    expect(after.expire - before.expire).toBe(3);
    expect(a.map((r) => r.remaining)).toEqual([97, 99]);
    expect(b.map((r) => r.remaining)).toEqual([95]);
    expect(await store.connection.get(`rt:rt_fw_a_${start}`)).toBe('5');
    const ttl = await store.connection.ttl(`rt:rt_fw_a_${start}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60 + FIXED_WINDOW_EXPIRE_JITTER_SECONDS);
  });

  it('falls back to the INCRBY + EXPIRE pipeline when an ACL forbids scripts (as envoyproxy needs none)', async () => {
    await store.connection.call(
      'ACL',
      'SETUSER',
      'counters-only',
      'on',
      '>not-a-real-secret',
      '~*',
      '+@connection',
      '+info',
      '+client',
      '+incrby',
      '+expire',
      '+get',
      '-@scripting',
    );
    const url = new URL(server.url);
    url.username = 'counters-only';
    url.password = 'not-a-real-secret';
    const limited = new RedisStore({
      urls: [url.toString()],
      cluster: false,
      keyPrefix: 'acl:',
      commandTimeoutMs: 2000,
    });
    try {
      for (let i = 0; i < 500 && !limited.ready(); i++) await new Promise((r) => setTimeout(r, 10));
      const now = Date.now();
      const start = Math.floor(now / 60_000) * 60;
      const hit: Hit = {
        key: 'acl_a_',
        algorithm: 'fixed_window',
        limit: 10,
        window: { startSeconds: start, lengthSeconds: 60 },
        hits: 2,
        nowMs: now,
      };
      // The first turn is refused as a script and sent again as a pipeline; later turns go straight.
      expect((await limited.apply([hit])).map((r) => r.remaining)).toEqual([8]);
      expect((await limited.apply([hit])).map((r) => r.remaining)).toEqual([6]);
      expect(await store.connection.get(`acl:acl_a_${start}`)).toBe('4');
      expect(await store.connection.ttl(`acl:acl_a_${start}`)).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  it('behind one URL, a cluster-mode node (as a sharding endpoint) gets the pipeline, not a cross-slot script', async () => {
    const node = await startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] });
    const direct = new RedisStore({ urls: [node.url], cluster: false, keyPrefix: 'cs:', commandTimeoutMs: 2000 });
    try {
      for (let i = 0; i < 500 && !direct.ready(); i++) await new Promise((r) => setTimeout(r, 10));
      await direct.connection.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      for (let i = 0; i < 500; i++) {
        if (String(await direct.connection.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const now = Date.now();
      const mk = (key: string): Hit => ({
        key,
        algorithm: 'fixed_window',
        limit: 10,
        window: { startSeconds: Math.floor(now / 60_000) * 60, lengthSeconds: 60 },
        hits: 1,
        nowMs: now,
      });
      // Keys of three slots in one turn: one script would be refused with CROSSSLOT.
      const results = await Promise.all([direct.apply([mk('a_')]), direct.apply([mk('b_')]), direct.apply([mk('c_')])]);
      expect(results.map((r) => r[0].remaining)).toEqual([9, 9, 9]);
      const info = await direct.connection.info('commandstats');
      expect(info).not.toMatch(/cmdstat_eval(sha)?:/);
    } finally {
      await direct.close();
      await node.stop();
    }
  });

  it('survives SCRIPT FLUSH (EVALSHA → NOSCRIPT → EVAL)', async () => {
    const now = Date.now();
    const mk = (algorithm: Algorithm): Hit => ({
      key: `flush_${algorithm}_`,
      algorithm,
      limit: 10,
      window: { startSeconds: Math.floor(now / 60_000) * 60, lengthSeconds: 60 },
      hits: 1,
      nowMs: now,
    });
    const hits = [mk('sliding_window'), mk('token_bucket')];
    await store.apply(hits);
    await store.apply([mk('fixed_window')]);
    await store.connection.script('FLUSH');
    const res = await store.apply(hits);
    expect(res.map((r) => r.remaining)).toEqual([8, 8]);
    expect((await store.apply([mk('fixed_window')])).map((r) => r.remaining)).toEqual([8]);
  });
});
