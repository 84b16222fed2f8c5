// What gen build prints about features a target cannot express. The emitters warn once per route
// (`kong: route "chat": <text>`); a big gateway file repeats the same text for hundreds of routes,
// so the same text is printed once with the routes it concerns.

const perRoute = /^([a-z-]+): route "((?:[^"\\]|\\.)*)": (.*)$/s;

/** Warnings with the same target and text merged into one line naming their routes (first few, then a count). */
export function summarizeWarnings(warnings: readonly string[], namesShown = 3): string[] {
  const groups = new Map<string, { target: string; text: string; routes: string[] } | string>();
  for (const w of warnings) {
    const m = perRoute.exec(w);
    if (!m) {
      groups.set(`\u0000${groups.size}`, w);
      continue;
    }
    const [, target, route, text] = m;
    const key = `${target}\u0000${text}`;
    const g = groups.get(key);
    if (g && typeof g !== 'string') g.routes.push(route);
    else groups.set(key, { target, text, routes: [route] });
  }
  return [...groups.values()].map((g) => {
    if (typeof g === 'string') return g;
    if (g.routes.length === 1) return `${g.target}: route "${g.routes[0]}": ${g.text}`;
    const shown = g.routes
      .slice(0, namesShown)
      .map((r) => `"${r}"`)
      .join(', ');
    const more = g.routes.length > namesShown ? ` and ${g.routes.length - namesShown} more` : '';
    return `${g.target}: ${g.routes.length} routes (${shown}${more}): ${g.text}`;
  });
}

/** At most `perTarget` lines per target (the text before the first colon); a last line counts the rest. */
export function capWarnings(lines: readonly string[], perTarget = 25): string[] {
  const shown = new Map<string, number>();
  const hidden = new Map<string, number>();
  const out: string[] = [];
  for (const l of lines) {
    const target = /^([a-z-]+):/.exec(l)?.[1] ?? '';
    const n = shown.get(target) ?? 0;
    if (n < perTarget) {
      out.push(l);
      shown.set(target, n + 1);
    } else hidden.set(target, (hidden.get(target) ?? 0) + 1);
  }
  for (const [target, n] of hidden)
    out.push(`${target}: ${n.toLocaleString('en-US')} more warnings not shown (gen build --verbose shows them all)`);
  return out;
}
