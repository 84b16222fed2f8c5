// ShouldRateLimit, with envoyproxy/ratelimit's semantics (see docs/notes/envoyproxy-ratelimit-behaviour.md)
// plus the failure modes and the local over-limit cache.
import { status as grpcStatus } from '@grpc/grpc-js';
import { RateLimitResponse_Code } from '../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import type { HistogramChild } from '../../common/service-runtime/fast-metrics.js';
import type { AnswerStatus, RateLimitAnswer, RateLimitCall } from './call.js';
import type { DomainConfig, RateLimitConfig, RateLimitRule } from './config/types.js';
import type { OverLimitCache } from './local-cache.js';
import { type Entry, type MatchedLimit, matchLimit, overrideLimit } from './match.js';
import type { DescriptorStats, RateLimitStats } from './stats.js';
import type { CounterStore, Hit, HitResult } from './store/store.js';
import { secondsUntilReset, unitFromEnum, unitToEnum, windowAt } from './units.js';

const unlimitedRemaining = 4_294_967_295;

/** A failure answered as a gRPC status; Envoy applies its own failure mode to it. */
export class RateLimitCallError extends Error {
  constructor(
    readonly code: grpcStatus,
    message: string,
  ) {
    super(message);
  }
}

export interface RateLimitServiceOptions {
  config: () => RateLimitConfig | undefined;
  store: CounterStore;
  /** Used for domains with `failure_mode: local` while the store fails. */
  localStore: CounterStore;
  /** Replicas sharing the limits: in local mode each takes its share. */
  replicas: number;
  keyPrefix: string;
  overLimitCache?: OverLimitCache;
  responseHeaders: boolean;
  globalShadowMode: boolean;
  stats: RateLimitStats;
  now?: () => number;
}

interface Slot {
  index: number;
  limit: MatchedLimit;
  stats: DescriptorStats;
  hit: Hit;
  result?: HitResult;
}

export class RateLimitService {
  private readonly now: () => number;
  private readonly storeDuration: HistogramChild;

  constructor(private readonly o: RateLimitServiceOptions) {
    this.now = o.now ?? Date.now;
    this.storeDuration = o.stats.storeDuration.child({ store: o.store.kind });
  }

  async shouldRateLimit(req: RateLimitCall): Promise<RateLimitAnswer> {
    if (req.domain === '')
      throw new RateLimitCallError(grpcStatus.INVALID_ARGUMENT, 'rate limit domain must not be empty');
    if (req.descriptors.length === 0)
      throw new RateLimitCallError(grpcStatus.INVALID_ARGUMENT, 'rate limit descriptor list must not be empty');
    const config = this.o.config();
    if (!config) throw new RateLimitCallError(grpcStatus.UNAVAILABLE, 'no rate limit configuration loaded');
    const statuses: AnswerStatus[] = req.descriptors.map(() => ({
      code: RateLimitResponse_Code.OK,
      limitRemaining: 0,
    }));
    const domain = config.domains.get(req.domain);
    if (!domain) {
      this.o.stats.descriptor('', '').decision('no_limit', req.descriptors.length);
      return { overallCode: RateLimitResponse_Code.OK, statuses, responseHeadersToAdd: [] };
    }
    const nowMs = this.now();
    const requestHits = Math.max(1, req.hitsAddend);
    const matched: (MatchedLimit | undefined)[] = req.descriptors.map((d) => {
      const entries: Entry[] = d.entries;
      if (d.limit) {
        const unit = unitFromEnum(d.limit.unit);
        if (!unit)
          throw new RateLimitCallError(
            grpcStatus.INVALID_ARGUMENT,
            `descriptor limit override has an unknown unit ${d.limit.unit}`,
          );
        const rule: RateLimitRule = {
          unit,
          requestsPerUnit: d.limit.requestsPerUnit,
          unlimited: false,
          replaces: [],
          algorithm: 'fixed_window',
        };
        return overrideLimit(domain, entries, rule, this.o.keyPrefix);
      }
      return matchLimit(domain, entries, this.o.keyPrefix);
    });
    let replaced: Set<string> | undefined;
    for (const m of matched) {
      if (!m?.rule.replaces.length) continue;
      replaced ??= new Set();
      for (const name of m.rule.replaces) replaced.add(name);
    }
    const slots: Slot[] = [];
    matched.forEach((m, i) => {
      const stats = this.o.stats.descriptor(domain.domain, m?.statsKey ?? '');
      if (!m || (m.rule.name !== undefined && replaced?.has(m.rule.name))) {
        stats.decision('no_limit');
        return;
      }
      if (m.rule.unlimited) {
        statuses[i].limitRemaining = unlimitedRemaining;
        stats.decision('unlimited');
        return;
      }
      const own = req.descriptors[i].hitsAddend;
      const window = windowAt(m.rule.unit, nowMs);
      slots.push({
        index: i,
        limit: m,
        stats,
        hit: {
          key: m.counterKey,
          algorithm: m.rule.algorithm,
          limit: m.rule.requestsPerUnit,
          window,
          hits: own ?? requestHits,
          nowMs,
        },
      });
    });
    await this.count(domain, slots);
    let anyOver = false;
    let quotaTotal = 0;
    let quotaOver = 0;
    for (const s of slots) {
      const r = s.result!;
      const st = statuses[s.index];
      st.currentLimit = currentLimitOf(s.limit.rule);
      st.limitRemaining = r.remaining;
      // Envoy and upstream never see 0 here: at least one second.
      st.durationUntilReset = { seconds: Math.max(1, r.resetSeconds) };
      const over = r.over && !s.limit.shadowMode;
      st.code = over ? RateLimitResponse_Code.OVER_LIMIT : RateLimitResponse_Code.OK;
      if (s.limit.quotaMode) {
        quotaTotal++;
        if (over) quotaOver++;
      } else if (over) anyOver = true;
      s.stats.decision(r.over ? (s.limit.shadowMode ? 'shadow_over_limit' : 'over_limit') : 'within_limit');
      if (s.hit.hits > 0) s.stats.hits(r.over, s.hit.hits);
    }
    const overall = !this.o.globalShadowMode && (anyOver || (quotaTotal > 0 && quotaOver === quotaTotal));
    return {
      overallCode: overall ? RateLimitResponse_Code.OVER_LIMIT : RateLimitResponse_Code.OK,
      statuses,
      responseHeadersToAdd: this.o.responseHeaders ? this.headers(slots, overall) : [],
    };
  }

  /** Counts every slot in one store call; the local cache answers for keys known to be over. */
  private async count(domain: DomainConfig, slots: Slot[]): Promise<void> {
    const cache = this.o.overLimitCache;
    const pending: Slot[] = [];
    for (const s of slots) {
      const cacheKey = `${s.hit.key}${s.hit.window.startSeconds}`;
      if (cache && s.hit.algorithm === 'fixed_window' && s.hit.hits > 0 && cache.isOver(cacheKey, s.hit.nowMs)) {
        s.result = { over: true, remaining: 0, resetSeconds: resetOf(s.hit) };
        this.o.stats.localCacheHits.inc();
      } else pending.push(s);
    }
    if (!pending.length) return;
    const results = await this.applyWithFailureMode(
      domain,
      pending.map((s) => s.hit),
    );
    pending.forEach((s, i) => {
      s.result = results[i];
      if (cache && s.hit.algorithm === 'fixed_window' && results[i].over) {
        cache.remember(
          `${s.hit.key}${s.hit.window.startSeconds}`,
          (s.hit.window.startSeconds + s.hit.window.lengthSeconds) * 1000,
        );
      }
    });
  }

  private async applyWithFailureMode(domain: DomainConfig, hits: Hit[]): Promise<HitResult[]> {
    const store = this.o.store;
    const start = performance.now();
    try {
      return await store.apply(hits);
    } catch (e) {
      this.o.stats.storeErrors.inc({ store: store.kind });
      switch (domain.failureMode) {
        case 'allow':
          this.o.stats.failureMode.inc({ domain: domain.domain, mode: 'allow' });
          return hits.map((h) => ({ over: false, remaining: h.limit, resetSeconds: resetOf(h) }));
        case 'local': {
          this.o.stats.failureMode.inc({ domain: domain.domain, mode: 'local' });
          const share = (n: number) => (n === 0 ? 0 : Math.max(1, Math.ceil(n / this.o.replicas)));
          return this.o.localStore.apply(hits.map((h) => ({ ...h, limit: share(h.limit) })));
        }
        default:
          throw new RateLimitCallError(grpcStatus.UNAVAILABLE, `rate limit store unavailable: ${(e as Error).message}`);
      }
    } finally {
      this.storeDuration.observe((performance.now() - start) / 1000);
    }
  }

  /** RateLimit-Limit/Remaining/Reset of the descriptor that decides, as upstream chooses it; Retry-After when over. */
  private headers(slots: Slot[], over: boolean) {
    const withLimit = slots.filter((s) => s.result);
    const overSlots = withLimit.filter((s) => s.result!.over && !s.limit.quotaMode);
    const pick =
      overSlots[overSlots.length - 1] ??
      withLimit.reduce<Slot | undefined>(
        (best, s) => (!best || s.result!.remaining < best.result!.remaining ? s : best),
        undefined,
      );
    if (!pick) return [];
    const h = (key: string, value: string | number) => ({ key, value: String(value) });
    const out = [
      h('RateLimit-Limit', pick.limit.rule.requestsPerUnit),
      h('RateLimit-Remaining', pick.result!.remaining),
      h('RateLimit-Reset', pick.result!.resetSeconds),
    ];
    if (over) out.push(h('Retry-After', pick.result!.resetSeconds));
    return out;
  }
}

const resetOf = (h: Hit) => secondsUntilReset(h.window, h.nowMs);

// The `current_limit` of a rule, made once: answers only read it when they are encoded.
type CurrentLimit = NonNullable<AnswerStatus['currentLimit']>;
const currentLimits = new WeakMap<RateLimitRule, CurrentLimit>();
function currentLimitOf(rule: RateLimitRule): CurrentLimit {
  let m = currentLimits.get(rule);
  if (!m) {
    m = Object.freeze({ requestsPerUnit: rule.requestsPerUnit, unit: unitToEnum(rule.unit), name: rule.name ?? '' });
    currentLimits.set(rule, m);
  }
  return m;
}
