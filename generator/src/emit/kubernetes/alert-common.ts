// What every alert rule shares: the series selectors of the gateway's parts and the rule shape.
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { GatewayModel } from '../../model/types.js';
import type { ServiceNames } from './labels.js';
import { alternation, type Matcher, quote } from './promql.js';

type RuleGroup = NonNullable<NonNullable<IPrometheusRule['spec']>['groups']>[number];
export type AlertRule = NonNullable<RuleGroup['rules']>[number];

export interface Selectors {
  envoy: Matcher[];
  /** Envoy's gateway listeners (not its stats listener). */
  listeners: Matcher[];
  extAuthz: Matcher[];
  ratelimit: Matcher[];
}

export function selectors(model: GatewayModel, names: ServiceNames): Selectors {
  const of = (service: string): Matcher[] => [
    ['namespace', '=', quote(model.namespace)],
    ['service', '=', quote(service)],
  ];
  return {
    envoy: of(names.envoy),
    listeners: [['envoy_http_conn_manager_prefix', '=~', alternation(model.listeners.map((l) => l.name))]],
    extAuthz: of(names.extAuthz),
    ratelimit: of(names.ratelimit),
  };
}

export function alert(
  model: GatewayModel,
  name: string,
  expr: string,
  forDuration: string,
  severity: 'critical' | 'warning' | 'info',
  summary: string,
  description: string,
  labels: Record<string, string> = {},
): AlertRule {
  return {
    alert: name,
    expr,
    for: forDuration,
    labels: { severity, gateway: model.name, ...labels },
    annotations: { summary, description },
  };
}
