import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram } from './fast-metrics.js';

const buckets = [0.001, 0.01, 0.1, 1];
const samples: [string, number][] = [
  ['OK', 0.0005],
  ['OK', 0.001],
  ['OK', 0.05],
  ['UNAVAILABLE', 2],
  ['OK', 0.3],
];

/** The same counter and histogram, fast in one registry and prom-client's own in the other. */
function sideBySide() {
  const fast = new Registry();
  const slow = new Registry();
  return {
    fast,
    slow,
    fc: new FastCounter({ name: 'x_calls_total', help: 'h', labelNames: ['code'], registers: [fast] }),
    fh: new FastHistogram({ name: 'x_seconds', help: 'h', labelNames: ['code'], buckets, registers: [fast] }),
    sc: new Counter({ name: 'x_calls_total', help: 'h', labelNames: ['code'], registers: [slow] }),
    sh: new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['code'], buckets, registers: [slow] }),
  };
}

describe('FastCounter / FastHistogram', () => {
  it("print exactly what prom-client's Counter and Histogram print for the same updates", async () => {
    const { fast, slow, fc, fh, sc, sh } = sideBySide();
    for (const [code, v] of samples) {
      fc.inc({ code }, 2);
      sc.inc({ code }, 2);
      fh.observe({ code }, v);
      sh.observe({ code }, v);
    }
    expect(await fast.metrics()).toBe(await slow.metrics());
    // Read twice: what was handed over is not counted again.
    fc.inc({ code: 'OK' });
    sc.inc({ code: 'OK' });
    expect(await fast.metrics()).toBe(await slow.metrics());
  });

  it('bound children count into the same series as inc/observe with those labels', async () => {
    const { fast, slow, fc, fh, sc, sh } = sideBySide();
    const ok = { counter: fc.child({ code: 'OK' }), histogram: fh.child({ code: 'OK' }) };
    for (const [code, v] of samples) {
      if (code === 'OK') {
        ok.counter.inc(2);
        ok.histogram.observe(v);
      } else {
        fc.inc({ code }, 2);
        fh.observe({ code }, v);
      }
      sc.inc({ code }, 2);
      sh.observe({ code }, v);
    }
    fc.inc({ code: 'OK' });
    ok.counter.inc();
    sc.inc({ code: 'OK' }, 2);
    expect(await fast.metrics()).toBe(await slow.metrics());
    expect(() => ok.counter.inc(-1)).toThrow(/cannot increase/);
    expect(() => ok.histogram.observe(Number.POSITIVE_INFINITY)).toThrow(/cannot observe/);
    expect(() => fc.child({ nope: 'x' } as never)).toThrow(/label "nope"/);
    fh.reset();
    ok.histogram.observe(0.05);
    expect(await fast.metrics()).toContain('x_seconds_count{code="OK"} 1');
  });

  it('a series exists from its first use, and a bad label is an error at that use', async () => {
    const r = new Registry();
    const c = new FastCounter({ name: 'y_total', help: 'h', labelNames: ['a'], registers: [r] });
    c.inc({ a: 'v' }, 0);
    expect(await r.metrics()).toContain('y_total{a="v"} 0');
    expect(() => c.inc({ b: 'v' } as never)).toThrow(/label "b"/);
    expect(() => c.inc({ a: 'v' }, -1)).toThrow(/cannot increase/);
    const h = new FastHistogram({ name: 'y_seconds', help: 'h', buckets, registers: [r] });
    expect(() => h.observe(Number.NaN)).toThrow(/cannot observe/);
  });

  it('startTimer observes the elapsed seconds with the labels given at start and end', async () => {
    const r = new Registry();
    const h = new FastHistogram({ name: 'z_seconds', help: 'h', labelNames: ['a', 'b'], buckets, registers: [r] });
    const end = h.startTimer({ a: '1' });
    const s = end({ b: '2' });
    expect(s).toBeGreaterThanOrEqual(0);
    expect(await r.metrics()).toContain('z_seconds_count{a="1",b="2"} 1');
  });

  it("cluster workers' values add up in prom-client's AggregatorRegistry", async () => {
    const one = async () => {
      const r = new Registry();
      const c = new FastCounter({ name: 'w_total', help: 'h', labelNames: ['code'], registers: [r] });
      const h = new FastHistogram({ name: 'w_seconds', help: 'h', buckets, registers: [r] });
      c.inc({ code: 'OK' }, 3);
      h.observe(0.05);
      return r.getMetricsAsJSON();
    };
    const merged = AggregatorRegistry.aggregate([await one(), await one()]);
    const text = await merged.metrics();
    expect(text).toContain('w_total{code="OK"} 6');
    expect(text).toContain('w_seconds_bucket{le="0.1"} 2');
    expect(text).toContain('w_seconds_count 2');
  });
});
