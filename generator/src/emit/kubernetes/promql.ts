// Small PromQL writing helpers: quoted label values, selectors, numbers.

/** A double-quoted PromQL string. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** An RE2 alternation matching exactly the given values, quoted. */
export function alternation(values: string[]): string {
  return quote(values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'));
}

export type Matcher = [label: string, op: '=' | '!=' | '=~' | '!~', quotedValue: string];

export function selector(matchers: Matcher[]): string {
  return `{${matchers.map(([l, op, v]) => `${l}${op}${v}`).join(',')}}`;
}

/** A number as PromQL writes it, without float noise (0.9 × 200000 → 180000). */
export function num(n: number): string {
  return String(Number(n.toPrecision(12)));
}
