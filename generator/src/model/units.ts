// Parsing of the small value languages of gateway.yaml: durations and rates.
import type { RateAmount, RateUnit } from './types.js';

const durationPart = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1m30s" → 90000. The schema has already checked the syntax. */
export function durationMs(text: string): number {
  let total = 0;
  for (const m of text.matchAll(durationPart)) total += Number(m[1]) * unitMs[m[2]];
  return Math.round(total);
}

/** "10/minute" → { amount: 10, unit: 'minute' } */
export function parseRate(text: string): RateAmount {
  const [amount, unit] = text.split('/').map((s) => s.trim());
  return { amount: Number(amount), unit: unit as RateUnit };
}

/** The useful part of a JavaScript RegExp syntax error: "Unterminated group". */
export function regexProblem(e: unknown): string {
  return String((e as Error).message).replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}
