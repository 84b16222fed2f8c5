// Request limits as Kong's rate-limiting plugin (Kong 3.x: `policy: redis` with the nested
// `redis` block). Kong counts per consumer, ip or service, in fixed windows, one plugin per route,
// and counts a route's plugin on that route alone. Token quotas, per-tenant and per-model limits,
// shadow mode and every other difference are gaps, said per route.
import type { GatewayModel, Limit, LimitKey, RateAmount, Route } from '../../model/types.js';
import { kongNames, vaultNames } from './names.js';
import type { Gap, Json, KongRoute, PluginInstance } from './types.js';

type LimitBy = 'consumer' | 'ip' | 'service';

const rate = (r: RateAmount) => `${r.amount}/${r.unit}`;

/** The Kong redis block (never a password: a vault reference), or undefined for Redis Cluster. */
export function redisSettings(model: GatewayModel): Json | undefined {
  const redis = model.services.redis;
  if (redis.cluster) return undefined;
  const out: Json = {};
  if (redis.url) {
    const u = new URL(redis.url);
    out.host = u.hostname;
    out.port = u.port ? Number(u.port) : 6379;
    const db = u.pathname.replace(/^\//, '');
    if (/^[0-9]+$/.test(db) && db !== '0') out.database = Number(db);
    if (u.protocol === 'rediss:') out.ssl = true;
  } else {
    out.host = `redis.${model.namespace}.svc.cluster.local`;
    out.port = 6379;
  }
  if (redis.password) out.password = vaultNames.redisPassword().reference;
  return out;
}

/** What a limit counts, for messages: "5000/day per tenant, hr 2000/day". */
function counted(l: Limit): string {
  return [
    ...(l.rate ? [`${rate(l.rate)} per ${l.per.join(' and ')}`] : []),
    ...l.overrides.map((o) => `${o.value} ${rate(o.rate)}`),
  ].join(', ');
}

/** Why Kong cannot enforce a limit at all, or how it counts it. */
function classify(l: Limit): { feature: string; why: string } | { limitBy: LimitBy } {
  const keys = l.per.filter((k): k is Exclude<LimitKey, 'route'> => k !== 'route');
  const not = `not enforced: ${counted(l)}`;
  if (l.kind === 'tokens')
    return { feature: `token quota "${l.name}"`, why: `Kong OSS counts requests, not LLM tokens; ${not}` };
  if (keys.includes('tenant'))
    return {
      feature: `per-tenant limit "${l.name}"`,
      why: `Kong's rate-limiting counts per consumer, ip, service, header or path, never per tenant; ${not}`,
    };
  if (keys.includes('model'))
    return { feature: `per-model limit "${l.name}"`, why: `Kong cannot read the model from the body; ${not}` };
  if (l.shadow)
    return {
      feature: `shadow limit "${l.name}"`,
      why: `Kong has no observe-only mode and enforcing it would refuse requests; ${not}`,
    };
  if (keys.length > 1)
    return { feature: `limit "${l.name}"`, why: `Kong's limit_by takes one key, not ${keys.join(' and ')}; ${not}` };
  if (!l.rate)
    return {
      feature: `limit "${l.name}"`,
      why: `it has only per-${keys[0]} overrides and Kong's rate-limiting applies one rate to everybody; ${not}`,
    };
  return { limitBy: keys[0] === 'client' ? 'consumer' : keys[0] === 'ip' ? 'ip' : 'service' };
}

function plugin(model: GatewayModel, l: Limit, limitBy: LimitBy): PluginInstance {
  const redis = redisSettings(model);
  const config: Json = { limit_by: limitBy, [l.rate!.unit]: l.rate!.amount };
  if (redis) {
    config.policy = 'redis';
    config.redis = redis;
  } else {
    config.policy = 'local';
  }
  config.fault_tolerant = model.services.redis.whenDown !== 'error';
  return { name: kongNames.plugin(model.name, 'limit', l.name), plugin: 'rate-limiting', config };
}

interface Decision {
  route: KongRoute;
  applied?: { limit: Limit; limitBy: LimitBy };
  gaps: Gap[];
}

function decide(model: GatewayModel, k: KongRoute): Decision {
  const limits = new Map(model.limits.map((l) => [l.name, l]));
  const d: Decision = { route: k, gaps: [] };
  for (const name of k.route.limits) {
    const l = limits.get(name)!;
    const c = classify(l);
    if (!('limitBy' in c)) {
      d.gaps.push({ route: k.route.name, ...c });
    } else if (d.applied) {
      d.gaps.push({
        route: k.route.name,
        feature: `limit "${l.name}"`,
        why: `Kong runs one rate-limiting plugin per route and "${d.applied.limit.name}" is the one here; not enforced: ${counted(l)}`,
      });
    } else {
      d.applied = { limit: l, limitBy: c.limitBy };
    }
  }
  return d;
}

const sharingCache = new WeakMap<Decision[], Map<unknown, string[]>>();

/** For each limit, the routes whose plugins apply it (computed once per list of decisions). */
function sharingRoutes(all: Decision[]): Map<unknown, string[]> {
  let m = sharingCache.get(all);
  if (!m) {
    m = new Map();
    for (const x of all) {
      if (!x.applied) continue;
      const list = m.get(x.applied.limit);
      if (list) list.push(x.route.route.name);
      else m.set(x.applied.limit, [x.route.route.name]);
    }
    sharingCache.set(all, m);
  }
  return m;
}

function partialGaps(model: GatewayModel, d: Decision, all: Decision[]): Gap[] {
  if (!d.applied) return [];
  const { limit: l, limitBy } = d.applied;
  const r: Route = d.route.route;
  const gaps: Gap[] = [];
  const gap = (feature: string, why: string) => gaps.push({ route: r.name, feature, why });
  if (l.overrides.length) {
    gap(
      `overrides of limit "${l.name}"`,
      `Kong applies ${rate(l.rate!)} to everybody, not ${l.overrides
        .map((o) => `${o.value} ${rate(o.rate)}`)
        .join(', ')}; add a consumer-scoped rate-limiting plugin by hand`,
    );
  }
  if (l.algorithm && l.algorithm !== 'fixed_window') {
    gap(`algorithm of limit "${l.name}"`, `Kong's rate-limiting counts fixed windows, not ${l.algorithm}`);
  }
  if (limitBy === 'consumer' && r.auth.jwt.length) {
    gap(
      `per-client limit "${l.name}" for JWT users`,
      `all users of JWT provider ${r.auth.jwt.join(', ')} are one Kong consumer and share ${rate(l.rate!)}`,
    );
  }
  if (limitBy === 'consumer' && r.auth.anonymous) {
    gap(`per-client limit "${l.name}" on an anonymous route`, `Kong counts per IP address when there is no consumer`);
  }
  const sharing = sharingRoutes(all).get(l) ?? [];
  if (!l.per.includes('route') && sharing.length > 1) {
    // At most a few names: with thousands of routes the message would grow with their square.
    const shown =
      sharing.length > 6
        ? `${sharing.slice(0, 5).join(', ')} and ${sharing.length - 5} more routes`
        : sharing.join(', ');
    gap(
      `limit "${l.name}" across routes`,
      `Kong counts a route's rate-limiting plugin on that route alone: ${rate(l.rate!)} on each of ${shown} rather than on all together`,
    );
  }
  if (!redisSettings(model)) {
    gap(
      `Redis Cluster for limit "${l.name}"`,
      "Kong OSS's rate-limiting cannot use Redis Cluster: it counts with policy local, each Kong node alone",
    );
  }
  return gaps;
}

/** The rate-limiting plugin of each Kong route (if any) and every limit difference, per route. */
export function limitPlugins(
  model: GatewayModel,
  routes: KongRoute[],
): { plugins: Map<KongRoute, PluginInstance>; gaps: Gap[] } {
  const decisions = routes.map((k) => decide(model, k));
  const plugins = new Map<KongRoute, PluginInstance>();
  const gaps: Gap[] = [];
  for (const d of decisions) {
    if (d.applied) plugins.set(d.route, plugin(model, d.applied.limit, d.applied.limitBy));
    gaps.push(...d.gaps, ...partialGaps(model, d, decisions));
  }
  return { plugins, gaps };
}
