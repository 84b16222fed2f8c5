import type { BuildContext } from './context.js';
import type { RawGateway } from './raw.js';
import type { Limit, LimitKey, Route } from './types.js';
import { parseRate } from './units.js';

export function buildLimits(ctx: BuildContext, raw: RawGateway, routes: Route[]): Limit[] {
  const list = raw.limits ?? [];
  ctx.uniqueNames(list, 'limits');
  const routeNames = new Set(routes.map((r) => r.name));
  const clients = raw.clients ?? [];
  const dynamicIdentities = (raw.jwt_providers ?? []).length > 0;
  return list.map((l, i): Limit => {
    const where = `limits[${i}]`;
    const per = (typeof l.per === 'string' ? [l.per] : l.per) as LimitKey[];
    const which = ctx.exactlyOne(l as unknown as Record<string, unknown>, ['requests', 'tokens'], ['limits', i], where);
    const kind = which === 'tokens' ? 'tokens' : 'requests';
    const text = l.requests ?? l.tokens;
    // By default a limit applies wherever it can count: token and per-model limits only on LLM routes.
    const needsModel = kind === 'tokens' || per.includes('model');
    const defaultRoutes = routes.filter((r) => !needsModel || r.modelField).map((r) => r.name);
    const limit: Limit = {
      name: l.name,
      per,
      kind,
      rate: l.only_overrides ? undefined : text ? parseRate(text) : undefined,
      overrides: Object.entries(l.overrides ?? {}).map(([value, rate]) => ({ value, rate: parseRate(rate) })),
      routes: l.routes ?? defaultRoutes,
      shadow: l.shadow ?? false,
      algorithm: l.algorithm,
    };
    (l.routes ?? []).forEach((r, j) => {
      if (!routeNames.has(r)) ctx.error(['limits', i, 'routes', j], `${where}.routes[${j}]: unknown route "${r}"`);
    });
    if (l.only_overrides && !limit.overrides.length)
      ctx.error(['limits', i, 'only_overrides'], `${where}.only_overrides: there are no overrides`);
    if (limit.overrides.length && per.length !== 1) {
      ctx.error(
        ['limits', i, 'overrides'],
        `${where}.overrides: overrides need a limit on one key, not ${per.join(' and ')}`,
      );
    }
    if (limit.overrides.length && per.length === 1) {
      const key = per[0];
      const known =
        key === 'client'
          ? new Set(clients.map((c) => c.name))
          : key === 'tenant'
            ? new Set(clients.map((c) => c.tenant))
            : key === 'route'
              ? routeNames
              : undefined;
      for (const o of limit.overrides) {
        if (key === 'route' ? !known!.has(o.value) : known && !dynamicIdentities && !known.has(o.value)) {
          ctx.error(['limits', i, 'overrides', o.value], `${where}.overrides: unknown ${key} "${o.value}"`, true);
        }
      }
    }
    const zero = [limit.rate, ...limit.overrides.map((o) => o.rate)].find((r) => r && r.amount === 0);
    if (zero)
      ctx.error(['limits', i], `${where}: an amount of 0 rejects every request; remove the route or use auth instead`);
    const applies = new Set(limit.routes);
    if (per.includes('model')) {
      for (const r of routes.filter((r) => applies.has(r.name))) {
        if (!r.modelField) {
          ctx.error(
            ['limits', i, 'per'],
            `${where}.per: counts per model, but route "${r.name}" has no model (its backends are plain http)`,
          );
        }
      }
    }
    if (kind === 'tokens') {
      for (const r of routes.filter((r) => applies.has(r.name))) {
        if (!r.modelField)
          ctx.error(
            ['limits', i, 'tokens'],
            `${where}.tokens: route "${r.name}" serves no LLM API, so it has no tokens to count`,
          );
      }
    }
    for (const r of routes) if (applies.has(r.name)) r.limits.push(limit.name);
    return limit;
  });
}
