// Which Kong routes the gateway's routes become. Kong matches on path, method, headers and host,
// never on the body: the members of a dispatch group (same path, method and headers, told apart
// by body fields or personal data) become one Kong route, the one of the member that takes the
// requests no body condition picks (the catch-all). Without a catch-all, the member that keeps
// personal data in-house, else the first.
import type { Backend, GatewayModel, Route } from '../../model/types.js';
import { kongNames } from './names.js';
import type { Gap, KongRoute } from './types.js';

const readsBody = (r: Route) => Object.keys(r.match.body).length > 0 || r.match.personalData !== undefined;

function representative(members: Route[]): Route {
  return members.find((m) => !readsBody(m)) ?? members.find((m) => m.match.personalData === true) ?? members[0];
}

/** The backend Kong sends a route's requests to: its backend, or the heaviest of a split. */
export function primaryBackend(route: Route): string {
  const a = route.action;
  if (a.kind === 'single') return a.backend;
  return [...a.backends].sort((x, y) => y.weight - x.weight)[0].name;
}

export function planRoutes(model: GatewayModel): { routes: KongRoute[]; gaps: Gap[] } {
  const byName = new Map(model.routes.map((r) => [r.name, r]));
  const backends = new Map<string, Backend>(model.backends.map((b) => [b.name, b]));
  const servedBy = new Map<string, Route>();
  for (const g of model.dispatchGroups) {
    const members = g.members.map((m) => byName.get(m)!);
    const rep = representative(members);
    for (const m of members) servedBy.set(m.name, rep);
  }
  const foldedInto = new Map<Route, Route[]>();
  for (const r of model.routes) {
    const rep = servedBy.get(r.name);
    if (rep && rep !== r) foldedInto.set(rep, [...(foldedInto.get(rep) ?? []), r]);
  }
  const routes: KongRoute[] = [];
  const gaps: Gap[] = [];
  for (const r of model.routes) {
    const rep = servedBy.get(r.name) ?? r;
    if (rep === r) {
      routes.push({
        route: r,
        name: kongNames.route(model.name, r.name),
        backend: backends.get(primaryBackend(r))!,
        folded: foldedInto.get(r) ?? [],
        plugins: [],
      });
      if (r.personalData === 'deny') {
        gaps.push({
          route: r.name,
          feature: 'personal-data blocking',
          why: 'Kong cannot look for personal data in the body: requests that carry it are not refused',
        });
      }
    }
    const to =
      rep === r
        ? `this Kong route takes every ${describeMatch(r)} request, whatever its body`
        : `its requests go to route "${rep.name}" (backend ${primaryBackend(rep)}) with that route's auth and limits`;
    const fields = Object.entries(r.match.body);
    if (fields.length) {
      const values = fields.map(([f, v]) => `${f}=${v.join('|')}`).join(', ');
      gaps.push({
        route: r.name,
        feature: 'routing on a body field',
        why: `Kong routes cannot read the JSON body (${values}): ${to}`,
      });
    }
    if (r.match.personalData !== undefined) {
      gaps.push({
        route: r.name,
        feature: 'personal-data routing',
        why: `Kong cannot look for personal data in the body: ${to}`,
      });
    }
  }
  return { routes, gaps };
}

function describeMatch(r: Route): string {
  return `${r.match.methods?.join('/') ?? 'any-method'} ${r.match.path.value}`;
}
