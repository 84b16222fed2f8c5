// Groups the routes that are told apart only by the request body (see DispatchGroup).
import type { BuildContext } from './context.js';
import type { DispatchGroup, Route } from './types.js';

const readsBody = (r: Route) => Object.keys(r.match.body).length > 0 || r.match.personalData !== undefined;

function groupKey(r: Route): string {
  return JSON.stringify([r.listener, r.match.path, [...(r.match.methods ?? [])].sort(), r.match.headers]);
}

export function buildDispatchGroups(ctx: BuildContext, routes: Route[]): DispatchGroup[] {
  const byKey = new Map<string, Route[]>();
  for (const r of routes) {
    const k = groupKey(r);
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  const groups: DispatchGroup[] = [];
  for (const members of byKey.values()) {
    if (!members.some(readsBody)) continue;
    const first = members[0];
    const group: DispatchGroup = {
      id: first.name,
      listener: first.listener,
      match: { path: first.match.path, methods: first.match.methods, headers: first.match.headers },
      members: members.map((m) => m.name),
      fields: [...new Set(members.flatMap((m) => Object.keys(m.match.body)))].sort(),
      personalData: members.some((m) => m.match.personalData !== undefined),
    };
    for (const m of members) m.dispatchGroup = group.id;
    const lower = new Map<string, string>();
    for (const f of group.fields) {
      const prev = lower.get(f.toLowerCase());
      if (prev)
        ctx.error(
          ['routes', first.index, 'match', 'body'],
          `routes[${first.index}].match.body: fields "${prev}" and "${f}" differ only in case`,
        );
      lower.set(f.toLowerCase(), f);
    }
    groups.push(group);
  }
  return groups;
}
