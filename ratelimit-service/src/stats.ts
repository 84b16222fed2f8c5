// Prometheus metrics of the rate-limit service. Labels are bounded: domain and the descriptor's
// config path (never a request value such as an IP or a client name).
// The per-call metrics are FastCounter/FastHistogram (same output as prom-client's, cheaper updates).
import { Counter, Gauge, type Registry } from 'prom-client';
import { type CounterChild, FastCounter, FastHistogram } from '../../common/service-runtime/fast-metrics.js';

export class RateLimitStats {
  readonly calls: FastCounter<'code'>;
  readonly callDuration: FastHistogram<'code'>;
  readonly decisions: FastCounter<'domain' | 'descriptor' | 'decision'>;
  readonly hits: FastCounter<'domain' | 'descriptor' | 'decision'>;
  readonly storeErrors: FastCounter<'store'>;
  readonly storeDuration: FastHistogram<'store'>;
  readonly failureMode: FastCounter<'domain' | 'mode'>;
  readonly localCacheHits: FastCounter;
  readonly configLoads: Counter<'result'>;
  readonly configDomains: Gauge;
  private readonly descriptors = new Map<string, Map<string, DescriptorStats>>();

  constructor(registry: Registry) {
    const registers = [registry];
    const fast = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
    this.calls = new FastCounter({
      name: 'ratelimit_calls_total',
      help: 'ShouldRateLimit calls by gRPC status code.',
      labelNames: ['code'],
      registers,
    });
    this.callDuration = new FastHistogram({
      name: 'ratelimit_call_duration_seconds',
      help: 'Time to answer ShouldRateLimit.',
      labelNames: ['code'],
      buckets: fast,
      registers,
    });
    this.decisions = new FastCounter({
      name: 'ratelimit_descriptor_decisions_total',
      help: 'Descriptors decided, by outcome: within_limit, over_limit, shadow_over_limit (allowed by shadow mode), unlimited, no_limit.',
      labelNames: ['domain', 'descriptor', 'decision'],
      registers,
    });
    this.hits = new FastCounter({
      name: 'ratelimit_hits_total',
      help: 'Hits counted (hits_addend: requests, or LLM tokens for token quotas), by outcome.',
      labelNames: ['domain', 'descriptor', 'decision'],
      registers,
    });
    this.storeErrors = new FastCounter({
      name: 'ratelimit_store_errors_total',
      help: 'Failed calls to the counter store (Redis).',
      labelNames: ['store'],
      registers,
    });
    this.storeDuration = new FastHistogram({
      name: 'ratelimit_store_duration_seconds',
      help: 'Round trip to the counter store for one ShouldRateLimit call.',
      labelNames: ['store'],
      buckets: fast,
      registers,
    });
    this.failureMode = new FastCounter({
      name: 'ratelimit_failure_mode_total',
      help: 'Calls answered by the failure mode (allow, local) because the store failed.',
      labelNames: ['domain', 'mode'],
      registers,
    });
    this.localCacheHits = new FastCounter({
      name: 'ratelimit_local_cache_hits_total',
      help: 'Descriptors answered over-limit from the local cache, without a store call.',
      registers,
    });
    this.configLoads = new Counter({
      name: 'ratelimit_config_loads_total',
      help: 'Config loads by result (success, error).',
      labelNames: ['result'],
      registers,
    });
    this.configDomains = new Gauge({
      name: 'ratelimit_config_domains',
      help: 'Domains in the config in use.',
      registers,
    });
  }

  /** The per-descriptor counters of a domain and descriptor path, bound once and reused by every call. */
  descriptor(domain: string, statsKey: string): DescriptorStats {
    let byKey = this.descriptors.get(domain);
    if (!byKey) {
      byKey = new Map();
      this.descriptors.set(domain, byKey);
    }
    let d = byKey.get(statsKey);
    if (!d) {
      d = new DescriptorStats(this, { domain, descriptor: statsKey });
      byKey.set(statsKey, d);
    }
    return d;
  }
}

export type Decision = 'within_limit' | 'over_limit' | 'shadow_over_limit' | 'unlimited' | 'no_limit';

/** Decisions and hits of one descriptor path; each series appears at its first use, as with inc(). */
export class DescriptorStats {
  private readonly decided: Partial<Record<Decision, CounterChild>> = {};
  private readonly counted: Partial<Record<'within_limit' | 'over_limit', CounterChild>> = {};

  constructor(
    private readonly stats: RateLimitStats,
    private readonly labels: { domain: string; descriptor: string },
  ) {}

  decision(decision: Decision, n = 1): void {
    let c = this.decided[decision];
    if (!c) {
      c = this.stats.decisions.child({ ...this.labels, decision });
      this.decided[decision] = c;
    }
    c.inc(n);
  }

  hits(over: boolean, n: number): void {
    const decision = over ? 'over_limit' : 'within_limit';
    let c = this.counted[decision];
    if (!c) {
      c = this.stats.hits.child({ ...this.labels, decision });
      this.counted[decision] = c;
    }
    c.inc(n);
  }
}
