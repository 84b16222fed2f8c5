// ShouldRateLimit semantics over the in-memory store, one behaviour per test, with a fixed clock.
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  RateLimitResponse_Code as Code,
  RateLimitRequestSchema,
} from '../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { callFromMessage } from './call.js';
import { loadConfig } from './config/load.js';
import type { RateLimitConfig } from './config/types.js';
import { OverLimitCache } from './local-cache.js';
import { type RateLimitCallError, RateLimitService, type RateLimitServiceOptions } from './service.js';
import { RateLimitStats } from './stats.js';
import { MemoryStore } from './store/memory-store.js';
import type { CounterStore, Hit } from './store/store.js';

const config = loadConfig(path.resolve(import.meta.dirname, '../test/config/basic.yaml'));
const NOW = Date.UTC(2026, 10, 21, 12, 0, 30); // 30 s into a minute; November has 30 days

class CountingStore implements CounterStore {
  readonly kind = 'memory' as const;
  calls = 0;
  fail = false;
  private readonly inner = new MemoryStore();
  async apply(hits: Hit[]) {
    this.calls++;
    if (this.fail) throw new Error('connection refused');
    return this.inner.apply(hits);
  }
  ready() {
    return !this.fail;
  }
  async close() {}
}

function service(over: Partial<RateLimitServiceOptions> = {}, cfg: RateLimitConfig | undefined = config) {
  const store = new CountingStore();
  const svc = new RateLimitService({
    config: () => cfg,
    store,
    localStore: new MemoryStore(),
    replicas: 1,
    keyPrefix: '',
    responseHeaders: false,
    globalShadowMode: false,
    stats: new RateLimitStats(new Registry()),
    now: () => NOW,
    ...over,
  });
  return { svc, store };
}

const req = (descriptors: [string, string][][], extra: { domain?: string; hitsAddend?: number } = {}) =>
  callFromMessage(
    create(RateLimitRequestSchema, {
      domain: 'test-domain',
      descriptors: descriptors.map((entries) => ({ entries: entries.map(([key, value]) => ({ key, value })) })),
      ...extra,
    }),
  );

async function callError(p: Promise<unknown>): Promise<RateLimitCallError> {
  try {
    await p;
  } catch (e) {
    return e as RateLimitCallError;
  }
  throw new Error('expected an error');
}

describe('ShouldRateLimit', () => {
  it('rejects an empty domain or descriptor list with INVALID_ARGUMENT, and answers UNAVAILABLE without config', async () => {
    const { svc } = service();
    expect(await callError(svc.shouldRateLimit(req([[['key1', 'a']]], { domain: '' })))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: 'rate limit domain must not be empty',
    });
    expect(await callError(svc.shouldRateLimit(req([])))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: 'rate limit descriptor list must not be empty',
    });
    const none = service({ config: () => undefined }).svc;
    expect(await callError(none.shouldRateLimit(req([[['key1', 'a']]])))).toMatchObject({ code: status.UNAVAILABLE });
  });

  it('answers OK without limits for an unknown domain', async () => {
    const { svc, store } = service();
    const r = await svc.shouldRateLimit(req([[['key1', 'a']]], { domain: 'nope' }));
    expect(r.overallCode).toBe(Code.OK);
    expect(r.statuses).toHaveLength(1);
    expect(r.statuses[0].currentLimit).toBeUndefined();
    expect(store.calls).toBe(0);
  });

  it('counts a fixed window: remaining, reset, then OVER_LIMIT on the limit + 1st hit', async () => {
    const { svc } = service();
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await svc.shouldRateLimit(req([[['key1', 'other']]]));
      expect(r.overallCode).toBe(Code.OK);
      remaining.push(r.statuses[0].limitRemaining);
    }
    expect(remaining).toEqual([9, 8, 7, 6, 5]);
    const s = (await svc.shouldRateLimit(req([[['key1', 'other']]]))).statuses[0];
    expect(s.currentLimit).toMatchObject({ requestsPerUnit: 10, unit: 2 });
    expect(Number(s.durationUntilReset!.seconds)).toBe(30);
  });

  it('answers one status per descriptor in request order; OVER_LIMIT overall if any is over', async () => {
    const { svc } = service();
    const r = await svc.shouldRateLimit(req([[['key1', 'a']], [['zero', 'x']], [['nothing', 'x']]]));
    expect(r.overallCode).toBe(Code.OVER_LIMIT);
    expect(r.statuses.map((s) => s.code)).toEqual([Code.OK, Code.OVER_LIMIT, Code.OK]);
    expect(r.statuses[1].currentLimit?.requestsPerUnit).toBe(0);
    expect(r.statuses[2].currentLimit).toBeUndefined();
  });

  it('never limits unlimited descriptors and reports shadow-mode ones as OK', async () => {
    const { svc } = service();
    const u = (
      await svc.shouldRateLimit(
        req([
          [
            ['key2', 'value2'],
            ['subkey', 'vip'],
          ],
        ]),
      )
    ).statuses[0];
    expect(u).toMatchObject({ code: Code.OK, limitRemaining: 4_294_967_295 });
    await svc.shouldRateLimit(req([[['shadowed', 'a']]]));
    const r = await svc.shouldRateLimit(req([[['shadowed', 'a']]]));
    expect(r.overallCode).toBe(Code.OK);
    expect(r.statuses[0]).toMatchObject({ code: Code.OK, limitRemaining: 0 });
    expect(r.statuses[0].currentLimit?.requestsPerUnit).toBe(1);
  });

  it('drops a limit replaced by another matched limit', async () => {
    const { svc } = service();
    for (let i = 0; i < 3; i++) {
      const r = await svc.shouldRateLimit(req([[['replaced', 'a']], [['replacing', 'a']]]));
      expect(r.overallCode).toBe(Code.OK);
      expect(r.statuses[0].currentLimit).toBeUndefined();
    }
  });

  it('adds hits_addend (LLM tokens): 0 on the request counts 1', async () => {
    const { svc } = service();
    expect((await svc.shouldRateLimit(req([[['tokens', 'hr']]], { hitsAddend: 600 }))).statuses[0].limitRemaining).toBe(
      400,
    );
    expect((await svc.shouldRateLimit(req([[['tokens', 'hr']]], { hitsAddend: 600 }))).overallCode).toBe(
      Code.OVER_LIMIT,
    );
    expect((await svc.shouldRateLimit(req([[['tokens', 'cs']]], { hitsAddend: 0 }))).statuses[0].limitRemaining).toBe(
      999,
    );
  });

  it('applies a descriptor limit override, skipping the tree', async () => {
    const { svc } = service();
    const r = req([[['anything', 'x']]]);
    r.descriptors[0].limit = { requestsPerUnit: 1, unit: 3 };
    expect((await svc.shouldRateLimit(r)).statuses[0]).toMatchObject({ code: Code.OK, limitRemaining: 0 });
    expect((await svc.shouldRateLimit(r)).overallCode).toBe(Code.OVER_LIMIT);
  });

  it('uses a calendar month window', async () => {
    const { svc } = service();
    const s = (await svc.shouldRateLimit(req([[['monthly', 'x']]]))).statuses[0];
    expect(Number(s.durationUntilReset!.seconds)).toBe((Date.UTC(2026, 11, 1) - NOW) / 1000);
    expect(s.currentLimit?.unit).toBe(5);
  });

  it('adds RateLimit-* headers, and Retry-After when over', async () => {
    const { svc } = service({ responseHeaders: true });
    const ok = await svc.shouldRateLimit(req([[['key1', 'value1']], [['key1', 'other']]]));
    expect(ok.responseHeadersToAdd.map((h) => [h.key, h.value])).toEqual([
      ['RateLimit-Limit', '5'],
      ['RateLimit-Remaining', '4'],
      ['RateLimit-Reset', '1'],
    ]);
    for (let i = 0; i < 4; i++) await svc.shouldRateLimit(req([[['key1', 'value1']]]));
    const over = await svc.shouldRateLimit(req([[['key1', 'value1']]]));
    expect(over.responseHeadersToAdd.map((h) => h.key)).toEqual([
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Retry-After',
    ]);
  });

  it('global shadow mode never answers OVER_LIMIT overall but keeps the statuses', async () => {
    const { svc } = service({ globalShadowMode: true });
    const r = await svc.shouldRateLimit(req([[['zero', 'x']]]));
    expect(r.overallCode).toBe(Code.OK);
    expect(r.statuses[0].code).toBe(Code.OVER_LIMIT);
  });

  it('remembers over-limit fixed windows locally: no store call until the window ends', async () => {
    const { svc, store } = service({ overLimitCache: new OverLimitCache() });
    await svc.shouldRateLimit(req([[['zero', 'x']]]));
    const before = store.calls;
    const r = await svc.shouldRateLimit(req([[['zero', 'x']]]));
    expect(r.overallCode).toBe(Code.OVER_LIMIT);
    expect(store.calls).toBe(before);
  });

  describe('when the store fails', () => {
    const withMode = (mode: 'error' | 'allow' | 'local') => {
      const cfg = loadConfig(path.resolve(import.meta.dirname, '../test/config/basic.yaml'));
      cfg.domains.get('test-domain')!.failureMode = mode;
      const s = service({ replicas: 2 }, cfg);
      s.store.fail = true;
      return s.svc;
    };
    it('error: answers UNAVAILABLE so that Envoy applies its failure_mode_deny', async () => {
      expect(await callError(withMode('error').shouldRateLimit(req([[['key1', 'a']]])))).toMatchObject({
        code: status.UNAVAILABLE,
      });
    });
    it('allow: lets everything through', async () => {
      const svc = withMode('allow');
      for (let i = 0; i < 3; i++)
        expect((await svc.shouldRateLimit(req([[['zero', 'x']], [['sliding', 'a']]]))).overallCode).toBe(Code.OK);
    });
    it('local: keeps limiting from memory with this replica’s share of the limit', async () => {
      const svc = withMode('local');
      const codes = [];
      for (let i = 0; i < 3; i++)
        codes.push(
          (
            await svc.shouldRateLimit(
              req([
                [
                  ['key3', 'a'],
                  ['subkey', 'b'],
                ],
              ]),
            )
          ).overallCode,
        );
      expect(codes).toEqual([Code.OK, Code.OK, Code.OVER_LIMIT]); // 3/minute over 2 replicas: 2 each
    });
  });
});
