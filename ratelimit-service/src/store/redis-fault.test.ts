// RedisStore when Redis fails: crash (SIGKILL), hang (SIGSTOP), down at startup. apply() must reject
// within commandTimeoutMs (+ slack) and never hang; the store must recover by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisAvailable, redisSkipReason, startRedis } from '../../../test/harness/redis-server.js';
import { RedisStore } from './redis-store.js';
import type { Hit } from './store.js';

const COMMAND_TIMEOUT_MS = 200;
const SLACK_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function hits(nowMs: number): Hit[] {
  const startSeconds = Math.floor(nowMs / 60_000) * 60;
  const window = { startSeconds, lengthSeconds: 60 };
  return [
    { key: `fault_a_${process.pid}_`, algorithm: 'fixed_window', limit: 1_000_000, window, hits: 1, nowMs },
    { key: `fault_b_${process.pid}_`, algorithm: 'sliding_window', limit: 1_000_000, window, hits: 1, nowMs },
    { key: `fault_c_${process.pid}_`, algorithm: 'token_bucket', limit: 1_000_000, window, hits: 1, nowMs },
  ];
}

interface Sample {
  at: number;
  ms: number;
  ok: boolean;
  ready: boolean;
  error?: string;
}

/** Calls apply() in a loop (one at a time, every `everyMs`) until `until()` or the time/count bound. */
async function drive(store: RedisStore, maxMs: number, until: (s: Sample) => boolean, everyMs = 10): Promise<Sample[]> {
  const out: Sample[] = [];
  const end = Date.now() + maxMs;
  for (let i = 0; i < 5000 && Date.now() < end; i++) {
    const at = Date.now();
    const s: Sample = await store.apply(hits(at)).then(
      () => ({ at, ms: Date.now() - at, ok: true, ready: store.ready() }),
      (e: Error) => ({ at, ms: Date.now() - at, ok: false, ready: store.ready(), error: e.message }),
    );
    out.push(s);
    if (until(s)) break;
    await sleep(everyMs);
  }
  return out;
}

async function waitFor(cond: () => boolean, maxMs: number): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > maxMs) throw new Error(`condition not met within ${maxMs} ms`);
    await sleep(10);
  }
  return Date.now() - start;
}

const available = redisAvailable();

describe.skipIf(!available)(available ? 'RedisStore under Redis failures' : `skipped: ${redisSkipReason()}`, () => {
  let server: RedisServer;
  let store: RedisStore;

  beforeAll(async () => {
    server = await startRedis();
    store = new RedisStore({ urls: [server.url], cluster: false, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    await waitFor(() => store.ready(), 5000);
  });

  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  it('SIGKILL: calls reject fast and ready() turns false; restart on the same port: calls succeed again', async () => {
    const before = await drive(store, 300, () => false);
    expect(before.every((s) => s.ok)).toBe(true);

    // Keep calling while the server is killed.
    const killing = server.kill();
    const down = await drive(store, 1500, () => false);
    await killing;
    const failed = down.filter((s) => !s.ok);
    expect(failed.length).toBeGreaterThan(0);
    expect(Math.max(...down.map((s) => s.ms))).toBeLessThanOrEqual(COMMAND_TIMEOUT_MS + SLACK_MS);
    expect(down.at(-1)!.ok).toBe(false);
    expect(store.ready()).toBe(false);

    const restartAt = Date.now();
    await server.restart();
    const up = await drive(store, 8000, (s) => s.ok);
    const recoveredAfter = up.at(-1)!.at - restartAt;
    expect(up.at(-1)!.ok).toBe(true);
    expect(store.ready()).toBe(true);
    expect(Math.max(...up.map((s) => s.ms))).toBeLessThanOrEqual(COMMAND_TIMEOUT_MS + SLACK_MS);
    const after = await drive(store, 300, () => false);
    expect(after.every((s) => s.ok)).toBe(true);
    console.info(
      `SIGKILL: ${failed.length}/${down.length} calls rejected, slowest ${Math.max(...down.map((s) => s.ms))} ms ` +
        `(first error: ${failed[0]?.error}); recovered ${recoveredAfter} ms after the restart began`,
    );
  });

  it('hung server (SIGSTOP): calls reject within commandTimeoutMs, the connection is dropped, and it comes back', async () => {
    await waitFor(() => store.ready(), 5000);
    server.pause();
    try {
      const hung = await drive(store, 2500, () => false, 20);
      expect(hung.every((s) => !s.ok)).toBe(true);
      expect(Math.max(...hung.map((s) => s.ms))).toBeLessThanOrEqual(COMMAND_TIMEOUT_MS + SLACK_MS);
      // the socket timeout (1 s for a 200 ms command timeout) dropped the silent connection
      expect(store.ready()).toBe(false);
    } finally {
      server.resume();
    }
    const recovered = await waitFor(() => store.ready(), 8000);
    const up = await drive(store, 3000, (s) => s.ok);
    expect(up.at(-1)!.ok).toBe(true);
    console.info(`SIGSTOP: ready again ${recovered} ms after SIGCONT`);
  });

  it('Redis down when the store starts: rejects at once, connects by itself when Redis comes up', async () => {
    await server.kill();
    const late = new RedisStore({ urls: [server.url], cluster: false, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    try {
      const t = Date.now();
      await expect(late.apply(hits(t))).rejects.toThrow(/not connected/);
      expect(Date.now() - t).toBeLessThan(50);
      await sleep(300);
      expect(late.ready()).toBe(false);
      await server.restart();
      await waitFor(() => late.ready(), 5000);
      expect((await late.apply(hits(Date.now()))).length).toBe(3);
    } finally {
      await late.close();
    }
    expect(late.ready()).toBe(false);
    await expect(late.apply(hits(Date.now()))).rejects.toThrow(/closed/);
  });
});
