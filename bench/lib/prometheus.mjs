// Reads values out of a Prometheus text exposition (e.g. a service's /metrics), for benches that
// check what a service counted during a run.

/**
 * Sum of the samples of metric `name` whose labels include every pair of `labels` (all samples of
 * the metric when `labels` is empty). 0 when none matches.
 */
export function metricSum(text, name, labels = {}) {
  let sum = 0;
  for (const s of parseSamples(text)) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === String(v))) sum += s.value;
  }
  return sum;
}

/** Every sample: { name, labels: {k: v}, value }. Comments and malformed lines are skipped. */
export function parseSamples(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) {
      for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      }
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The distinct values of label `label` among samples of `name`, with their sums: { value: sum }. */
export function metricByLabel(text, name, label) {
  const out = {};
  for (const s of parseSamples(text)) {
    if (s.name !== name) continue;
    const k = s.labels[label] ?? '';
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}
