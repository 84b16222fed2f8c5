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

export function checkShadowing(ctx: BuildContext, routes: Route[]): void {
  routes.forEach((b, j) => {
    const a = routes.slice(0, j).find((earlier) => covers(earlier, b));
    if (a) {
      ctx.error(
        ['routes', b.index, 'match'],
        `routes[${b.index}].match: route "${b.name}" can never match: route "${a.name}" (line ${ctx.line(['routes', a.index])}) comes first and matches every request it would`,
      );
    }
  });
}
