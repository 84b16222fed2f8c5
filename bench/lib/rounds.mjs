// Interleaved rounds: every target (the no-op and each configuration of the service) runs once per
// round at each concurrency, one after the other, and a round's ratios are taken against the no-op
// of that same round. On a VM whose speed drifts by ±15% from minute to minute, a ratio between two
// runs made seconds apart means more than one between runs made minutes apart; the median over the
// rounds (with its range) is what the verdict uses.
import { fmt } from './markdown.mjs';

/** The median of a non-empty list of numbers. */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The load both service benches put on by default: concurrencies, HTTP/2 connections, --workers values, rounds. */
export const serviceLoadDefaults = { concurrency: [16, 64], connections: 4, workers: [1, 2], rounds: 3 };

/**
 * rows: one per (key, concurrency, round) with reqPerSec, latency {p50, p99}, cpu {…}.
 * Returns one row per (key, concurrency), in first-seen order, with the medians of those fields,
 * `ratio` {median, min, max} against `baselineKey` of the same round and concurrency, and `runs`.
 */
export function summariseRounds(rows, baselineKey) {
  const groups = new Map();
  for (const r of rows) {
    const id = `${r.key}\u0000${r.concurrency}`;
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id).push(r);
  }
  const baseline = (c, round) => rows.find((r) => r.key === baselineKey && r.concurrency === c && r.round === round);
  return [...groups.values()].map((runs) => {
    const ratios = runs.map((r) => r.reqPerSec / baseline(r.concurrency, r.round).reqPerSec);
    const cpu = {};
    for (const k of Object.keys(runs[0].cpu))
      if (typeof runs[0].cpu[k] === 'number') cpu[k] = median(runs.map((r) => r.cpu[k]));
    return {
      ...runs[0],
      reqPerSec: median(runs.map((r) => r.reqPerSec)),
      latency: { p50: median(runs.map((r) => r.latency.p50)), p99: median(runs.map((r) => r.latency.p99)) },
      cpu,
      cpuPerRequestUs: median(runs.map((r) => (r.cpu.server / r.reqPerSec) * 1e6)),
      ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
      runs,
    };
  });
}

/** "0.82 (0.78–0.85)": a median ratio and its range over the rounds, for the table. */
export function ratioCell(ratio) {
  return `${fmt(ratio.median, 2)} (${fmt(ratio.min, 2)}–${fmt(ratio.max, 2)})`;
}

/** "median 0.82 × no-op (rounds 0.78–0.85)", for the verdict; `baseline` names what it is a ratio to. */
export function ratioVerdict(ratio, baseline = 'no-op') {
  return `median ${fmt(ratio.median, 2)} × ${baseline} (rounds ${fmt(ratio.min, 2)}–${fmt(ratio.max, 2)})`;
}

/** The line under the table that says how the medians were taken. */
export function roundsNote(rounds) {
  return `Medians over ${rounds} interleaved round(s): each round runs every target at each concurrency one after the other, and its ratios are taken against the no-op of the same round (the range is the lowest and highest round).`;
}
