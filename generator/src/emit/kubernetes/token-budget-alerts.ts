// "A token budget is nearly spent": for each token limit, tokens used over the limit's unit
// compared with kubernetes.alerts.token_budget_ratio × the budget.
//  - An override (`overrides: {hr: …}`) has its own descriptor in the rate-limit config, so the
//    rate-limit service's ratelimit_hits_total{descriptor="<domain>.limit_<name>.<key>_<value>"}
//    counts exactly that tenant's (client's, route's…) charged tokens.
//  - A per-tenant default: ext-authz's ext_authz_estimated_tokens_total{tenant} is per tenant, so
//    `sum by (tenant)` over it, without the tenants that have an override. It counts every
//    estimated request of the tenant, also on routes the limit does not cover.
//  - Any other default: the rate-limit service's metrics carry the descriptor's config path, never
//    the request's values, so the only figure is the sum over every value sharing the default
//    (all clients, all tenant × model pairs…). It is an upper bound of each one's use: the alert
//    is "info", a prompt to look, not proof that one of them is near its budget.
// Windows are rolling (`increase(…[1d])`), the limits' windows are fixed (a calendar day): the
// rolling figure can be higher, so the alert may come early, never late.
import type { GatewayModel, Limit, RateAmount, RateUnit } from '../../model/types.js';
import { descriptorKeys, limitDescriptorKey } from '../names.js';
import { type AlertRule, alert, selectors } from './alert-common.js';
import type { ServiceNames } from './labels.js';
import { alternation, type Matcher, num, quote, selector } from './promql.js';

const windows: Record<Exclude<RateUnit, 'second'>, string> = { minute: '1m', hour: '1h', day: '1d' };

/** Tokens used per unit of `rate`: an increase over the unit, or a per-second rate. */
function used(metric: string, matchers: Matcher[], unit: RateUnit, by?: string): string {
  const agg = by ? `sum by (${by}) ` : 'sum';
  return unit === 'second'
    ? `${agg}(rate(${metric}${selector(matchers)}[1m]))`
    : `${agg}(increase(${metric}${selector(matchers)}[${windows[unit]}]))`;
}

/** The rate-limit service's stats key of a descriptor path (ratelimit-service/src/match.ts). */
export function descriptorStatsKey(domain: string, limit: string, ids: string[]): string {
  return [domain, `${limitDescriptorKey}_${limit}`, ...ids].join('.');
}

function budget(rate: RateAmount): string {
  return `${num(rate.amount)} tokens per ${rate.unit}`;
}

export function tokenBudgetRules(model: GatewayModel, names: ServiceNames): AlertRule[] {
  const s = selectors(model, names);
  const ratio = model.kubernetes.alerts.tokenBudgetRatio;
  const domain = model.services.ratelimit.domain;
  const percent = `${num(ratio * 100)}%`;
  const rules: AlertRule[] = [];
  const hits = (descriptor: string): Matcher[] => [
    ...s.ratelimit,
    ['domain', '=', quote(domain)],
    ['descriptor', '=', quote(descriptor)],
  ];
  const onLimit = (l: Limit) => {
    const keys = l.per.map((k) => descriptorKeys[k]);
    for (const o of l.overrides) {
      const key = keys[0];
      rules.push(
        alert(
          model,
          'AIGatewayTokenBudgetNearlySpent',
          `${used('ratelimit_hits_total', hits(descriptorStatsKey(domain, l.name, [`${key}_${o.value}`])), o.rate.unit)} > ${num(ratio * o.rate.amount)}`,
          '5m',
          'warning',
          `${l.per[0]} ${o.value} has used over ${percent} of its token budget "${l.name}".`,
          `{{ $value | humanize }} tokens charged in the last ${o.rate.unit} against ${budget(o.rate)} (limit ${l.name}${l.shadow ? ', shadow mode: not enforced' : ''}).`,
          { limit: l.name, [l.per[0]]: o.value, precision: 'per-value' },
        ),
      );
    }
    if (!l.rate) return;
    if (l.per.length === 1 && l.per[0] === 'tenant') {
      const overridden = l.overrides.map((o) => o.value);
      const matchers: Matcher[] = [
        ...s.extAuthz,
        ['tenant', '!=', '""'],
        ...(overridden.length ? [['tenant', '!~', alternation(overridden)] as Matcher] : []),
      ];
      rules.push(
        alert(
          model,
          'AIGatewayTokenBudgetNearlySpent',
          `${used('ext_authz_estimated_tokens_total', matchers, l.rate.unit, 'tenant')} > ${num(ratio * l.rate.amount)}`,
          '5m',
          'warning',
          `tenant {{ $labels.tenant }} has used over ${percent} of its token budget "${l.name}".`,
          `{{ $value | humanize }} tokens estimated by ext-authz in the last ${l.rate.unit} against ${budget(l.rate)} (limit ${l.name}${l.shadow ? ', shadow mode: not enforced' : ''}; counts every route of the tenant).`,
          { limit: l.name, precision: 'per-tenant' },
        ),
      );
      return;
    }
    rules.push(
      alert(
        model,
        'AIGatewayTokenBudgetNearlySpent',
        `${used('ratelimit_hits_total', hits(descriptorStatsKey(domain, l.name, keys)), l.rate.unit)} > ${num(ratio * l.rate.amount)}`,
        '5m',
        'info',
        `Token use under "${l.name}" is over ${percent} of one ${l.per.join(' × ')} budget.`,
        `{{ $value | humanize }} tokens charged in the last ${l.rate.unit} by all ${l.per.join(' × ')} values together against ${budget(l.rate)} each (limit ${l.name}): the metrics do not tell the values apart, so one of them may or may not be near its budget.`,
        { limit: l.name, precision: 'aggregate' },
      ),
    );
  };
  for (const l of model.limits) if (l.kind === 'tokens') onLimit(l);
  return rules;
}
