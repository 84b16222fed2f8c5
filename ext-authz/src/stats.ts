// Prometheus metrics of ext-authz; labels are bounded (route policy names come from the config).
// The per-check metrics are FastCounter/FastHistogram (same output as prom-client's, cheaper updates).
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  type CounterChild,
  FastCounter,
  FastHistogram,
  type HistogramChild,
} from '../../common/service-runtime/fast-metrics.js';

export class AuthzStats {
  readonly decisions: FastCounter<'route' | 'decision' | 'status'>;
  readonly duration: FastHistogram<'transport'>;
  readonly policyLoads: Counter<'result'>;
  readonly policies: Gauge;
  readonly estimatedTokens: FastCounter<'tenant'>;
  private readonly decisionChildren = new Map<string, Map<number, CounterChild>>();
  private readonly durationChildren = new Map<string, HistogramChild>();

  /** `droppedLogLines`: the audit lines the logger dropped (its reader fell behind), exported as a counter. */
  constructor(registry: Registry, droppedLogLines: () => number = () => 0) {
    const registers = [registry];
    new Counter({
      name: 'ext_authz_log_lines_dropped_total',
      help: 'Log lines (audit lines included) dropped because the log reader fell behind by more than the logger holds.',
      registers,
      collect() {
        this.reset();
        const n = droppedLogLines();
        if (n > 0) this.inc(n);
      },
    });
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

  /** One decision counted (the series bound once per route, outcome and status). */
  decision(route: string, allow: boolean, status: number): void {
    let byOutcome = this.decisionChildren.get(route);
    if (!byOutcome) {
      byOutcome = new Map();
      this.decisionChildren.set(route, byOutcome);
    }
    const key = status * 2 + (allow ? 1 : 0);
    let c = byOutcome.get(key);
    if (!c) {
      c = this.decisions.child({ route, decision: allow ? 'allow' : 'deny', status: String(status) });
      byOutcome.set(key, c);
    }
    c.inc();
  }

  /** The time one check took, in seconds. */
  checkDuration(transport: 'grpc' | 'http', seconds: number): void {
    let c = this.durationChildren.get(transport);
    if (!c) {
      c = this.duration.child({ transport });
      this.durationChildren.set(transport, c);
    }
    c.observe(seconds);
  }
}
