// Rate-limit units and their windows. Windows are aligned to the Unix epoch like
// envoyproxy/ratelimit, except `month`, which is a real calendar month (UTC) here: upstream uses
// fixed 30-day buckets counted from 1970.

export type Unit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

export const unitSeconds: Record<Exclude<Unit, 'month'>, number> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
  year: 31_536_000,
};

/** envoy.type.v3.RateLimitUnit numbers (WEEK = 7 is newer than the protos we generate from). */
const byEnum: Record<number, Unit> = {
  1: 'second',
  2: 'minute',
  3: 'hour',
  4: 'day',
  5: 'month',
  6: 'year',
  7: 'week',
};
const toEnum: Record<Unit, number> = { second: 1, minute: 2, hour: 3, day: 4, month: 5, year: 6, week: 7 };

export function unitFromEnum(n: number): Unit | undefined {
  return byEnum[n];
}

export function unitToEnum(u: Unit): number {
  return toEnum[u];
}

/** Case-insensitive, like upstream. */
export function parseUnit(text: string): Unit | undefined {
  const u = text.toLowerCase();
  return u in toEnum ? (u as Unit) : undefined;
}

export interface Window {
  startSeconds: number;
  lengthSeconds: number;
}

export function windowAt(unit: Unit, nowMs: number): Window {
  const now = Math.floor(nowMs / 1000);
  if (unit === 'month') {
    const d = new Date(nowMs);
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000;
    const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000;
    return { startSeconds: start, lengthSeconds: end - start };
  }
  const len = unitSeconds[unit];
  return { startSeconds: now - (now % len), lengthSeconds: len };
}

/** Whole seconds until the window ends: between 1 and its length, never 0. */
export function secondsUntilReset(w: Window, nowMs: number): number {
  return Math.max(1, w.startSeconds + w.lengthSeconds - Math.floor(nowMs / 1000));
}
