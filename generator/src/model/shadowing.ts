// A route is shadowed when an earlier route on the same listener matches every request it would
// match: Envoy takes the first match, so the later route can never be reached.
import type { BuildContext } from './context.js';
import type { HeaderMatch, Route, StringMatch } from './types.js';

function pathCovers(a: StringMatch, b: StringMatch): boolean {
  if (a.kind === 'regex' || b.kind === 'regex') return a.kind === b.kind && a.value === b.value;
  if (a.kind === 'exact') return b.kind === 'exact' && a.value === b.value;
  return b.value.startsWith(a.value);
}

const sameHeader = (x: HeaderMatch, y: HeaderMatch) =>
  x.name === y.name && x.present === y.present && x.match?.kind === y.match?.kind && x.match?.value === y.match?.value;

export function covers(a: Route, b: Route): boolean {
  if (a.listener !== b.listener) return false;
  if (!pathCovers(a.match.path, b.match.path)) return false;
  if (a.match.methods && !(b.match.methods ?? ['*']).every((m) => a.match.methods!.includes(m))) return false;
  if (!a.match.headers.every((h) => b.match.headers.some((k) => sameHeader(h, k)))) return false;
  for (const [field, values] of Object.entries(a.match.body)) {
    const other = b.match.body[field];
    if (!other?.every((v) => values.includes(v))) return false;
  }
  return a.match.personalData === undefined || a.match.personalData === b.match.personalData;
}

/**
 * Only earlier routes whose path could cover b's are compared (same exact path, same regex, or a
 * prefix of b's path), found through indexes: linear in the number of routes, not quadratic.
 */
export function checkShadowing(ctx: BuildContext, routes: Route[]): void {
  const byPath = new Map<string, Route[]>();
  const key = (listener: string, kind: string, value: string) => `${listener}\u0000${kind}\u0000${value}`;
  const add = (k: string, r: Route) => {
    const list = byPath.get(k);
    if (list) list.push(r);
    else byPath.set(k, [r]);
  };
  routes.forEach((b) => {
    const { kind, value } = b.match.path;
    const candidates: Route[] = [];
    if (kind === 'regex') candidates.push(...(byPath.get(key(b.listener, 'regex', value)) ?? []));
    else {
      if (kind === 'exact') candidates.push(...(byPath.get(key(b.listener, 'exact', value)) ?? []));
      for (let n = 0; n <= value.length; n++)
        candidates.push(...(byPath.get(key(b.listener, 'prefix', value.slice(0, n))) ?? []));
    }
    candidates.sort((x, y) => x.index - y.index);
    const a = candidates.find((earlier) => covers(earlier, b));
    add(key(b.listener, kind, value), b);
    if (a) {
      ctx.error(
        ['routes', b.index, 'match'],
        `routes[${b.index}].match: route "${b.name}" can never match: route "${a.name}" (line ${ctx.line(['routes', a.index])}) comes first and matches every request it would`,
      );
    }
  });
}
