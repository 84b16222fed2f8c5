// Prometheus metrics of ext-authz; labels are bounded (route policy names come from the config).
// The per-check metrics are FastCounter/FastHistogram (same output as prom-client's, cheaper updates).
import { Counter, Gauge, type Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../common/service-runtime/fast-metrics.js';

export class AuthzStats {
  readonly decisions: FastCounter<'route' | 'decision' | 'status'>;
  readonly duration: FastHistogram<'transport'>;
  readonly policyLoads: Counter<'result'>;
  readonly policies: Gauge;
  readonly estimatedTokens: FastCounter<'tenant'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.decisions = new FastCounter({
      name: 'ext_authz_decisions_total',
      help: 'Decisions by route policy, allow/deny and HTTP status.',
      labelNames: ['route', 'decision', 'status'],
      registers,
    });
    this.duration = new FastHistogram({
      name: 'ext_authz_check_duration_seconds',
      help: 'Time to decide one check.',
      labelNames: ['transport'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.policyLoads = new Counter({
      name: 'ext_authz_policy_loads_total',
      help: 'Policy loads by result (success, error).',
      labelNames: ['result'],
      registers,
    });
    this.policies = new Gauge({ name: 'ext_authz_policies', help: 'Route policies in the policy in use.', registers });
    this.estimatedTokens = new FastCounter({
      name: 'ext_authz_estimated_tokens_total',
      help: 'LLM tokens estimated on allowed requests, by tenant.',
      labelNames: ['tenant'],
      registers,
    });
  }
}
