// Virtual hosts and routes. Dispatch routes (see DispatchGroup) come right before the first
// member of their group; members match on the headers ext-authz sets from the body.
import type {
  DispatchGroup,
  GatewayModel,
  HeaderMatch,
  Limit,
  Route,
  RouteMatch,
  StringMatch,
} from '../../model/types.js';
import { protoDuration } from '../durations.js';
import {
  bodyFieldHeader,
  clusterNames,
  dispatchHeader,
  dispatchPolicyName,
  dispatchRouteName,
  personalDataHeader,
  policyContextKey,
  routePolicyName,
  virtualHostName,
} from '../names.js';
import { rateLimitActions } from './rate-limit-actions.js';
import { filterNames, type Json, typeUrls } from './type-urls.js';

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function oneOf(values: string[]): Json {
  if (values.length === 1) return { exact: values[0] };
  return { safe_regex: { regex: `^(?:${values.map(escapeRegex).join('|')})$` } };
}

function stringMatcher(m: StringMatch): Json {
  return m.kind === 'regex' ? { safe_regex: { regex: m.value } } : { [m.kind]: m.value };
}

function pathMatch(m: StringMatch): Json {
  if (m.kind === 'regex') return { safe_regex: { regex: m.value } };
  return m.kind === 'exact' ? { path: m.value } : { prefix: m.value };
}

function headerMatchers(match: Pick<RouteMatch, 'methods' | 'headers'>): Json[] {
  const out: Json[] = [];
  if (match.methods) out.push({ name: ':method', string_match: oneOf(match.methods) });
  for (const h of match.headers as HeaderMatch[]) {
    if (h.match) out.push({ name: h.name, string_match: stringMatcher(h.match) });
    else
      out.push(
        h.present === false
          ? { name: h.name, present_match: true, invert_match: true }
          : { name: h.name, present_match: true },
      );
  }
  return out;
}

function authzPerRoute(policy: string, body: number | undefined): Json {
  const checkSettings: Json = { context_extensions: { [policyContextKey]: policy } };
  if (body !== undefined)
    checkSettings.with_request_body = { max_request_bytes: body, allow_partial_message: false, pack_as_bytes: true };
  return { [filterNames.extAuthz]: { '@type': typeUrls.extAuthzPerRoute, check_settings: checkSettings } };
}

function retryPolicy(route: Route): Json | undefined {
  const r = route.retries;
  if (!r) return undefined;
  const on = r.on.map((o) => (o === '429' ? 'retriable-status-codes' : o));
  const policy: Json = { retry_on: on.join(','), num_retries: r.attempts };
  if (r.on.includes('429')) policy.retriable_status_codes = [429];
  if (r.perTryTimeoutMs) policy.per_try_timeout = protoDuration(r.perTryTimeoutMs);
  policy.retry_back_off = { base_interval: protoDuration(r.baseMs), max_interval: protoDuration(r.maxMs) };
  if (route.action.kind === 'single' && route.action.failover.length) {
    // Each retry goes to the next priority: the next backend of the failover chain.
    policy.retry_priority = {
      name: 'envoy.retry_priorities.previous_priorities',
      typed_config: { '@type': typeUrls.previousPriorities, update_frequency: 1 },
    };
  }
  policy.retry_host_predicate = [
    { name: 'envoy.retry_host_predicates.previous_hosts', typed_config: { '@type': typeUrls.previousHosts } },
  ];
  policy.host_selection_retry_max_attempts = 3;
  return policy;
}

export function routeCluster(route: Route): Json {
  const a = route.action;
  if (a.kind === 'split') {
    return {
      weighted_clusters: {
        clusters: a.backends.map((b) => ({ name: clusterNames.backend(b.name), weight: b.weight })),
      },
    };
  }
  return {
    cluster: a.failover.length ? clusterNames.failover([a.backend, ...a.failover]) : clusterNames.backend(a.backend),
  };
}

/** Whether ext-authz needs the request body to decide on this route. */
export function needsBody(route: Route): boolean {
  return route.modelField !== undefined || route.personalData === 'deny';
}

function memberHeaders(route: Route): Json[] {
  const out: Json[] = Object.entries(route.match.body).map(([field, values]) => ({
    name: bodyFieldHeader(field),
    string_match: oneOf(values),
  }));
  if (route.match.personalData !== undefined)
    out.push({ name: personalDataHeader, string_match: { exact: String(route.match.personalData) } });
  return out;
}

function envoyRoute(route: Route, model: GatewayModel, limits: Map<string, Limit>): Json {
  const headers = [...headerMatchers(route.match), ...memberHeaders(route)];
  // The backend's own host name (HTTPS providers check it against the TLS name they serve).
  const action: Json = { ...routeCluster(route), auto_host_rewrite: true, timeout: protoDuration(route.timeoutMs) };
  if (route.idleTimeoutMs !== undefined) action.idle_timeout = protoDuration(route.idleTimeoutMs);
  const retry = retryPolicy(route);
  if (retry) action.retry_policy = retry;
  const rl = rateLimitActions(route, limits);
  if (rl.length) action.rate_limits = rl;
  return {
    name: route.name,
    match: { ...pathMatch(route.match.path), ...(headers.length ? { headers } : {}) },
    route: action,
    typed_per_filter_config: authzPerRoute(
      routePolicyName(route.name),
      needsBody(route) ? model.services.extAuthz.maxBodyBytes : undefined,
    ),
  };
}

function dispatchRoute(group: DispatchGroup, model: GatewayModel): Json {
  const headers = [...headerMatchers(group.match), { name: dispatchHeader, present_match: true, invert_match: true }];
  return {
    name: dispatchRouteName(group.id),
    match: { ...pathMatch(group.match.path), headers },
    // Reached only if ext-authz allowed the request without choosing a member: fail closed.
    direct_response: { status: 500, body: { inline_string: 'gateway: the request was not dispatched\n' } },
    typed_per_filter_config: authzPerRoute(dispatchPolicyName(group.id), model.services.extAuthz.maxBodyBytes),
  };
}

export function virtualHost(model: GatewayModel, listener: string): Json {
  const limits = new Map(model.limits.map((l) => [l.name, l]));
  const groups = new Map(model.dispatchGroups.map((g) => [g.id, g]));
  const routes: Json[] = [];
  for (const route of model.routes.filter((r) => r.listener === listener)) {
    const group = route.dispatchGroup ? groups.get(route.dispatchGroup) : undefined;
    if (group && group.members[0] === route.name) routes.push(dispatchRoute(group, model));
    routes.push(envoyRoute(route, model, limits));
  }
  const l = model.listeners.find((x) => x.name === listener)!;
  return { name: virtualHostName(listener), domains: l.hosts, routes };
}
