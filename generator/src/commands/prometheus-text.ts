// A reader for the Prometheus text exposition format (0.0.4), as prom-client and Envoy's
// /stats/prometheus write it, and histogram quantiles computed as PromQL's histogram_quantile.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line has one. */
  timestampMs?: number;
}

export interface Exposition {
  samples: Sample[];
  /** Metric family name → type, from `# TYPE` lines. */
  types: Map<string, MetricType>;
  /** Lines that could not be read (skipped). */
  errors: { line: number; message: string }[];
}

const metricTypes: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const nameStart = /[a-zA-Z_:]/;
const nameChar = /[a-zA-Z0-9_:]/;
const labelStart = /[a-zA-Z_]/;
const labelChar = /[a-zA-Z0-9_]/;

/** A sample value: a float, NaN, or ±Inf (as Go's ParseFloat reads them). */
export function parseSampleValue(s: string): number | undefined {
  const l = s.toLowerCase();
  if (l === 'nan') return Number.NaN;
  if (/^[+-]?inf(inity)?$/.test(l)) return l.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(s)) return Number(s);
  return undefined;
}

class LineError extends Error {}

function parseSampleLine(text: string): Sample {
  let i = 0;
  const skipBlanks = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const ident = (start: RegExp, rest: RegExp, what: string): string => {
    const from = i;
    if (i >= text.length || !start.test(text[i])) throw new LineError(`expected a ${what} at column ${i + 1}`);
    i++;
    while (i < text.length && rest.test(text[i])) i++;
    return text.slice(from, i);
  };

  skipBlanks();
  const name = ident(nameStart, nameChar, 'metric name');
  const labels: Record<string, string> = {};
  skipBlanks();
  if (text[i] === '{') {
    i++;
    for (;;) {
      skipBlanks();
      if (text[i] === '}') {
        i++;
        break;
      }
      const label = ident(labelStart, labelChar, 'label name');
      skipBlanks();
      if (text[i] !== '=') throw new LineError(`expected "=" after label ${label}`);
      i++;
      skipBlanks();
      if (text[i] !== '"') throw new LineError(`expected a quoted value for label ${label}`);
      i++;
      let value = '';
      for (;;) {
        if (i >= text.length) throw new LineError(`unterminated value of label ${label}`);
        const c = text[i++];
        if (c === '"') break;
        if (c === '\\') {
          const e = text[i++];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else if (e === undefined) throw new LineError(`unterminated value of label ${label}`);
          else value += `\\${e}`; // unknown escape: kept as written
        } else value += c;
      }
      if (Object.hasOwn(labels, label)) throw new LineError(`label ${label} appears twice`);
      labels[label] = value;
      skipBlanks();
      if (text[i] === ',') i++;
      else if (text[i] !== '}') throw new LineError(`expected "," or "}" after label ${label}`);
    }
  }
  const rest = text
    .slice(i)
    .trim()
    .split(/[ \t]+/);
  if (rest.length === 0 || rest[0] === '') throw new LineError(`no value for ${name}`);
  if (rest.length > 2) throw new LineError(`unexpected text after the value of ${name}`);
  const value = parseSampleValue(rest[0]);
  if (value === undefined) throw new LineError(`"${rest[0]}" is not a number`);
  const sample: Sample = { name, labels, value };
  if (rest.length === 2) {
    if (!/^-?\d+$/.test(rest[1])) throw new LineError(`"${rest[1]}" is not a timestamp`);
    sample.timestampMs = Number(rest[1]);
  }
  return sample;
}

export function parsePrometheusText(text: string): Exposition {
  const out: Exposition = { samples: [], types: new Map(), errors: [] };
  const lines = text.split('\n');
  lines.forEach((raw, n) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trim();
    if (trimmed === '') return;
    if (trimmed.startsWith('#')) {
      const m = /^#[ \t]+TYPE[ \t]+(\S+)[ \t]+(\S+)[ \t]*$/.exec(trimmed);
      if (m) {
        if (metricTypes.has(m[2])) out.types.set(m[1], m[2] as MetricType);
        else out.errors.push({ line: n + 1, message: `unknown metric type "${m[2]}"` });
      }
      return; // HELP and other comments are not needed
    }
    try {
      out.samples.push(parseSampleLine(line));
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      out.errors.push({ line: n + 1, message: e.message });
    }
  });
  return out;
}

// --- Queries over samples -----------------------------------------------------------------

export type LabelFilter = Record<string, string | ((value: string) => boolean)>;

function fits(s: Sample, filter: LabelFilter): boolean {
  return Object.entries(filter).every(([k, want]) => {
    const v = s.labels[k] ?? '';
    return typeof want === 'function' ? want(v) : v === want;
  });
}

export function select(samples: Sample[], name: string, filter: LabelFilter = {}): Sample[] {
  return samples.filter((s) => s.name === name && fits(s, filter));
}

export function has(samples: Sample[], name: string): boolean {
  return samples.some((s) => s.name === name);
}

export function sum(samples: Sample[], name: string, filter: LabelFilter = {}): number {
  return select(samples, name, filter).reduce((a, s) => a + s.value, 0);
}

/** Sums by one label's value (absent label = ""), in first-seen order. */
export function sumBy(samples: Sample[], name: string, label: string, filter: LabelFilter = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of select(samples, name, filter)) {
    const k = s.labels[label] ?? '';
    out.set(k, (out.get(k) ?? 0) + s.value);
  }
  return out;
}

export interface Bucket {
  /** Upper bound (`le`). */
  le: number;
  /** Cumulative count. */
  count: number;
}

export interface HistogramData {
  buckets: Bucket[];
  sum: number;
  count: number;
}

/**
 * The histogram `base` (from `base_bucket`, `base_sum`, `base_count`), every series that fits the
 * filter added together (as `sum by (le)`), buckets sorted by upper bound. Undefined if absent.
 */
export function histogram(samples: Sample[], base: string, filter: LabelFilter = {}): HistogramData | undefined {
  const byLe = new Map<number, number>();
  for (const s of select(samples, `${base}_bucket`, filter)) {
    const le = parseSampleValue(s.labels.le ?? '');
    if (le === undefined || Number.isNaN(le)) continue;
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  if (byLe.size === 0) return undefined;
  return {
    buckets: [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le),
    sum: sum(samples, `${base}_sum`, filter),
    count: sum(samples, `${base}_count`, filter),
  };
}

/**
 * The q-quantile of cumulative buckets, exactly as Prometheus' histogram_quantile: linear
 * interpolation within the bucket that holds the rank (the lowest bucket starts at 0), the upper
 * bound of the second-highest bucket when the rank falls in the +Inf bucket, NaN without a +Inf
 * bucket or observations; counts that decrease are raised to stay monotonic.
 */
export function histogramQuantile(q: number, input: Bucket[]): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  // Sorted, equal bounds merged.
  const buckets: Bucket[] = [];
  for (const b of [...input].sort((x, y) => x.le - y.le)) {
    const last = buckets[buckets.length - 1];
    if (last && last.le === b.le) last.count += b.count;
    else buckets.push({ ...b });
  }
  if (buckets.length === 0 || buckets[buckets.length - 1].le !== Infinity) return Number.NaN;
  for (let i = 1; i < buckets.length; i++)
    if (buckets[i].count < buckets[i - 1].count) buckets[i].count = buckets[i - 1].count;
  if (buckets.length < 2) return Number.NaN;
  const observations = buckets[buckets.length - 1].count;
  if (observations === 0) return Number.NaN;
  let rank = q * observations;
  let b = buckets.findIndex((x, i) => i < buckets.length - 1 && x.count >= rank);
  if (b < 0) b = buckets.length - 1;
  if (b === buckets.length - 1) return buckets[buckets.length - 2].le;
  if (b === 0 && buckets[0].le <= 0) return buckets[0].le;
  let start = 0;
  let count = buckets[b].count;
  if (b > 0) {
    start = buckets[b - 1].le;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return start + (buckets[b].le - start) * (rank / count);
}
