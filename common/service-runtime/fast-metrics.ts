// Counters and histograms for the per-request path. prom-client hashes and validates the label
// object on every inc()/observe(), which costs more than the rest of a metric update; here each
// label set gets a cell once (validated then), an update is a few additions on that cell, and
// the numbers are handed over in prom-client's own format when the registry is read (a scrape,
// or a cluster worker answering the primary's aggregation). Same names, types and output.
import { Counter, type Metric, type Registry } from 'prom-client';

type LabelValues<L extends string> = Partial<Record<L, string | number>>;

interface CounterCell {
  labels: Record<string, string | number>;
  pending: number;
}

function cellKey(labelNames: readonly string[], labels: Record<string, string | number | undefined>): string {
  let key = '';
  for (const n of labelNames) key += `${labels[n] ?? ''}\u0000`;
  return key;
}

function checkLabels(metric: string, labelNames: readonly string[], labels: Record<string, unknown>): void {
  for (const k of Object.keys(labels))
    if (!labelNames.includes(k)) throw new Error(`${metric}: label "${k}" is not one of ${labelNames.join(', ')}`);
}

export interface FastCounterConfig<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  registers: Registry[];
}

/** A prom-client Counter (see `metric`) whose increments are collected into it when it is read. */
export class FastCounter<L extends string = string> {
  readonly metric: Counter<L>;
  readonly name: string;
  private readonly labelNames: readonly string[];
  private readonly cells = new Map<string, CounterCell>();

  constructor(cfg: FastCounterConfig<L>) {
    this.name = cfg.name;
    this.labelNames = cfg.labelNames ?? [];
    const cells = this.cells;
    this.metric = new Counter<L>({
      name: cfg.name,
      help: cfg.help,
      labelNames: [...(cfg.labelNames ?? [])],
      registers: cfg.registers,
      collect() {
        for (const c of cells.values()) {
          if (c.pending === 0) continue;
          this.inc(c.labels as LabelValues<L>, c.pending);
          c.pending = 0;
        }
      },
    });
  }

  inc(labels?: LabelValues<L> | number, value = 1): void {
    if (typeof labels === 'number') {
      value = labels;
      labels = undefined;
    }
    if (!(value >= 0)) throw new RangeError(`${this.name}: cannot increase by ${value}`);
    this.cell((labels ?? {}) as Record<string, string | number>).pending += value;
  }

  /** The series of these labels, bound: `child(l).inc(n)` = `inc(l, n)` without finding the series each time. */
  child(labels: LabelValues<L>): CounterChild {
    const cell = this.cell(labels as Record<string, string | number>);
    const name = this.name;
    return {
      inc(value = 1) {
        if (!(value >= 0)) throw new RangeError(`${name}: cannot increase by ${value}`);
        cell.pending += value;
      },
    };
  }

  private cell(values: Record<string, string | number>): CounterCell {
    const key = cellKey(this.labelNames, values);
    let cell = this.cells.get(key);
    if (!cell) {
      checkLabels(this.name, this.labelNames, values);
      cell = { labels: { ...values }, pending: 0 };
      this.cells.set(key, cell);
      this.metric.inc(cell.labels as LabelValues<L>, 0); // the series exists from its first use
    }
    return cell;
  }
}

export interface CounterChild {
  inc(value?: number): void;
}

export interface HistogramChild {
  /** Records one observation (seconds, for the durations here). */
  observe(value: number): void;
}

export interface FastHistogramConfig<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  /** Upper bounds, ascending (a +Inf bucket is added). */
  buckets: readonly number[];
  registers: Registry[];
}

/** One line of a histogram, as prom-client's own histograms give it to the registry. */
export interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

interface HistogramCell {
  labels: Record<string, string | number>;
  /** counts[i]: observations <= buckets[i] and > buckets[i-1] (made cumulative when read). */
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram with prom-client's output (`_bucket` with `le`, `_sum`, `_count`), registered like one. */
export class FastHistogram<L extends string = string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly labelNames: readonly string[];
  private readonly bounds: readonly number[];
  private readonly cells = new Map<string, HistogramCell>();

  constructor(cfg: FastHistogramConfig<L>) {
    this.name = cfg.name;
    this.help = cfg.help;
    this.labelNames = cfg.labelNames ?? [];
    this.bounds = [...cfg.buckets];
    for (let i = 1; i < this.bounds.length; i++)
      if (!(this.bounds[i] > this.bounds[i - 1])) throw new RangeError(`${cfg.name}: buckets must be ascending`);
    for (const r of cfg.registers) r.registerMetric(this as unknown as Metric);
  }

  observe(labels: LabelValues<L> | number, value?: number): void {
    if (typeof labels === 'number') this.record({}, labels);
    else this.record(labels as Record<string, string | number>, value ?? Number.NaN);
  }

  /** Starts a timer; the function it returns observes the seconds elapsed (and returns them). */
  startTimer(labels?: LabelValues<L>): (more?: LabelValues<L>) => number {
    const start = process.hrtime.bigint();
    return (more) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.record((more ? { ...labels, ...more } : (labels ?? {})) as Record<string, string | number>, seconds);
      return seconds;
    };
  }

  /** The series of these labels, bound (children keep counting into it across reset()). */
  child(labels: LabelValues<L>): HistogramChild {
    const cell = this.cell(labels as Record<string, string | number>);
    return { observe: (value) => this.add(cell, value) };
  }

  /** Zeroes every series (they stay listed, as bound children keep writing to them). */
  reset(): void {
    for (const c of this.cells.values()) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }

  async get(): Promise<{ name: string; help: string; type: 'histogram'; values: HistogramValue[]; aggregator: 'sum' }> {
    const values: HistogramValue[] = [];
    for (const c of this.cells.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i];
        values.push({ metricName: `${this.name}_bucket`, labels: { le: this.bounds[i], ...c.labels }, value: acc });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...c.labels }, value: c.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...c.labels }, value: c.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...c.labels }, value: c.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }

  private record(labels: Record<string, string | number>, value: number): void {
    this.add(this.cell(labels), value);
  }

  private cell(labels: Record<string, string | number>): HistogramCell {
    const key = cellKey(this.labelNames, labels);
    let cell = this.cells.get(key);
    if (!cell) {
      checkLabels(this.name, this.labelNames, labels);
      cell = { labels: { ...labels }, counts: new Array(this.bounds.length).fill(0), sum: 0, count: 0 };
      this.cells.set(key, cell);
    }
    return cell;
  }

  private add(cell: HistogramCell, value: number): void {
    if (!Number.isFinite(value)) throw new RangeError(`${this.name}: cannot observe ${value}`);
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    if (i < b.length) cell.counts[i]++;
    cell.sum += value;
    cell.count++;
  }
}
