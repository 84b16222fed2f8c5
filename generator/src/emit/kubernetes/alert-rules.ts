// The PrometheusRule: availability alerts from Envoy's and the services' own metrics, and token
// budget alerts (token-budget-alerts.ts). Metric names:
//  - Envoy (stats tag extraction): http.<listener>.downstream_rq_xx → envoy_http_downstream_rq_xx
//    {envoy_response_code_class, envoy_http_conn_manager_prefix=<listener name>}; downstream_rq_time
//    (a histogram in milliseconds) → envoy_http_downstream_rq_time_bucket; the ext_authz and
//    ratelimit HTTP filters count in cluster.<route target cluster>.{ext_authz,ratelimit}.* →
//    envoy_cluster_ext_authz_error, envoy_cluster_ratelimit_error, envoy_cluster_ratelimit_over_limit.
//  - ext-authz (ext-authz/src/stats.ts): ext_authz_decisions_total{route,decision,status},
//    ext_authz_policy_loads_total{result}, ext_authz_estimated_tokens_total{tenant}.
//  - rate-limit service (ratelimit-service/src/stats.ts): ratelimit_calls_total{code},
//    ratelimit_store_errors_total{store}, ratelimit_failure_mode_total{domain,mode},
//    ratelimit_config_loads_total{result}, ratelimit_hits_total{domain,descriptor,decision}.
// The Prometheus Operator adds `namespace` and `service` to every scraped series.
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { GatewayModel } from '../../model/types.js';
import { type AlertRule, alert, selectors } from './alert-common.js';
import { gatewayLabels, metadata, type ServiceNames } from './labels.js';
import { alternation, type Matcher, num, quote, selector } from './promql.js';
import { tokenBudgetRules } from './token-budget-alerts.js';

function availabilityRules(model: GatewayModel, names: ServiceNames): AlertRule[] {
  const s = selectors(model, names);
  const sel = (...m: Matcher[][]) => selector(m.flat());
  const requests = `sum(rate(envoy_http_downstream_rq_total${sel(s.envoy, s.listeners)}[5m]))`;
  const p95Ms = model.kubernetes.alerts.p95LatencySeconds * 1000;
  return [
    alert(
      model,
      'AIGatewayHigh5xxRatio',
      `sum(rate(envoy_http_downstream_rq_xx${sel(s.envoy, s.listeners, [['envoy_response_code_class', '=', '"5"']])}[5m])) / ${requests} > 0.05`,
      '2m',
      'critical',
      'More than 5% of gateway responses are 5xx.',
      'Envoy answered {{ $value | humanizePercentage }} of requests with a 5xx status over the last 5 minutes (providers failing, no healthy backend, or ext-authz / rate-limit service errors).',
    ),
    alert(
      model,
      'AIGatewayHighP95Latency',
      `histogram_quantile(0.95, sum by (le) (rate(envoy_http_downstream_rq_time_bucket${sel(s.envoy, s.listeners)}[5m]))) > ${num(p95Ms)}`,
      '10m',
      'warning',
      `Gateway p95 latency is above ${num(model.kubernetes.alerts.p95LatencySeconds)}s.`,
      'Envoy’s p95 request time is {{ $value | humanize }} ms (downstream_rq_time, to the last byte of the response, so streamed completions count in full).',
    ),
    alert(
      model,
      'AIGatewayQuota429Surge',
      `((sum(rate(envoy_cluster_ratelimit_over_limit${sel(s.envoy)}[5m])) or vector(0)) + (sum(rate(ext_authz_decisions_total${sel(s.extAuthz, [['status', '=', '"429"']])}[5m])) or vector(0))) / ${requests} > 0.1`,
      '5m',
      'warning',
      'More than 10% of requests are rejected by quotas (429).',
      '{{ $value | humanizePercentage }} of requests were over a request limit (Envoy’s rate-limit filter) or a token quota (ext-authz) over the last 5 minutes.',
    ),
    alert(
      model,
      'AIGatewayExtAuthzUnreachable',
      `sum(rate(envoy_cluster_ext_authz_error${sel(s.envoy)}[5m])) / ${requests} > 0.01`,
      '2m',
      'critical',
      'Envoy cannot get answers from ext-authz.',
      'Envoy’s ext_authz filter failed on {{ $value | humanizePercentage }} of requests (timeouts, no ready ext-authz pod); it fails closed, so those requests were refused.',
    ),
    alert(
      model,
      'AIGatewayExtAuthzUnavailable',
      `sum(rate(ext_authz_decisions_total${sel(s.extAuthz, [['status', '=', '"503"']])}[5m])) / sum(rate(ext_authz_decisions_total${sel(s.extAuthz)}[5m])) > 0.01`,
      '5m',
      'critical',
      'ext-authz answers 503 to more than 1% of checks.',
      'ext-authz could not decide {{ $value | humanizePercentage }} of checks: no policy loaded, a provider credential unreadable, JWT signing keys unavailable, or the rate-limit service unreachable for token quotas.',
    ),
    alert(
      model,
      'AIGatewayRateLimitUnreachable',
      `sum(rate(envoy_cluster_ratelimit_error${sel(s.envoy)}[5m])) / ${requests} > 0.01`,
      '2m',
      'critical',
      'Envoy cannot get answers from the rate-limit service.',
      `Envoy’s rate-limit filter failed on {{ $value | humanizePercentage }} of requests; with on_error "${model.services.ratelimit.onError}" those requests were ${model.services.ratelimit.onError === 'deny' ? 'refused' : 'let through without a limit'}.`,
    ),
    alert(
      model,
      'AIGatewayRateLimitServiceErrors',
      `sum(rate(ratelimit_calls_total${sel(s.ratelimit, [['code', '!=', '"OK"']])}[5m])) / sum(rate(ratelimit_calls_total${sel(s.ratelimit)}[5m])) > 0.01`,
      '5m',
      'critical',
      'The rate-limit service fails more than 1% of calls.',
      '{{ $value | humanizePercentage }} of ShouldRateLimit calls ended with a gRPC error (Redis failing with when_down "error", or an internal error).',
    ),
    alert(
      model,
      'AIGatewayRedisUnreachable',
      `sum(rate(ratelimit_store_errors_total${sel(s.ratelimit)}[1m])) > 0 or sum(rate(ratelimit_failure_mode_total${sel(s.ratelimit)}[1m])) > 0`,
      '1m',
      'critical',
      'The rate-limit service cannot use Redis.',
      `Calls to Redis are failing; the rate-limit service answers with when_down "${model.services.redis.whenDown}" meanwhile.`,
    ),
    alert(
      model,
      'AIGatewayConfigRejected',
      `sum by (service) (increase(ext_authz_policy_loads_total${sel(s.extAuthz, [['result', '=', '"error"']])}[15m])) > 0 or sum by (service) (increase(ratelimit_config_loads_total${sel(s.ratelimit, [['result', '=', '"error"']])}[15m])) > 0`,
      '0m',
      'warning',
      '{{ $labels.service }} rejected a new config.',
      '{{ $labels.service }} could not load its config from the ConfigMap and keeps serving the last good one: check its log.',
    ),
    alert(
      model,
      'AIGatewayTargetDown',
      `up${selector([
        ['namespace', '=', quote(model.namespace)],
        ['service', '=~', alternation([names.envoy, names.extAuthz, names.ratelimit])],
      ])} == 0`,
      '5m',
      'critical',
      'A gateway pod cannot be scraped.',
      'Prometheus cannot scrape {{ $labels.pod }} of {{ $labels.service }}.',
    ),
  ];
}

export function alertRules(model: GatewayModel, names: ServiceNames): IPrometheusRule {
  const budgets = tokenBudgetRules(model, names);
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: metadata(model, model.name, gatewayLabels(model)),
    spec: {
      groups: [
        { name: `${model.name}.availability`, rules: availabilityRules(model, names) },
        ...(budgets.length ? [{ name: `${model.name}.token-budgets`, rules: budgets }] : []),
      ],
    },
  };
}
