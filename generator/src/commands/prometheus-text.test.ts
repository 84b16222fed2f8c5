import { describe, expect, it } from 'vitest';
import { histogram, histogramQuantile, parsePrometheusText, parseSampleValue, sum, sumBy } from './prometheus-text.js';

describe('parsePrometheusText', () => {
  it('reads names, labels with escapes, special values, timestamps and TYPE lines', () => {
    const text = [
      '# HELP ext_authz_decisions_total Decisions by "route", \\ and status.',
      '# TYPE ext_authz_decisions_total counter',
      'ext_authz_decisions_total{route="chat-openai",decision="deny",status="403"} 3',
      'ext_authz_decisions_total{ route = "a\\"b\\\\c\\nd" , decision="allow",status="200", } 1.5e3 1700000000123',
      '# a comment that says TYPE nothing',
      '',
      'up 1',
      'temperature_celsius{room="x"}\t-Inf',
      'weird{v="{},=\\t"} NaN',
      'big +Inf',
      'small{} 4.25e-3',
      'colon:metric:name{a="1"} -0.5',
      '# EOF',
    ].join('\r\n');
    const e = parsePrometheusText(text);
    expect(e.errors).toEqual([]);
    expect(e.types).toEqual(new Map([['ext_authz_decisions_total', 'counter']]));
    expect(e.samples[0]).toEqual({
      name: 'ext_authz_decisions_total',
      labels: { route: 'chat-openai', decision: 'deny', status: '403' },
      value: 3,
    });
    expect(e.samples[1]).toEqual({
      name: 'ext_authz_decisions_total',
      labels: { route: 'a"b\\c\nd', decision: 'allow', status: '200' },
      value: 1500,
      timestampMs: 1700000000123,
    });
    expect(e.samples.slice(2).map((s) => [s.name, s.labels, s.value])).toEqual([
      ['up', {}, 1],
      ['temperature_celsius', { room: 'x' }, -Infinity],
      ['weird', { v: '{},=\\t' }, Number.NaN],
      ['big', {}, Infinity],
      ['small', {}, 0.00425],
      ['colon:metric:name', { a: '1' }, -0.5],
    ]);
  });

  it('skips and reports lines it cannot read, keeping the others', () => {
    const e = parsePrometheusText(
      [
        'ok 1',
        'no_value',
        'bad_value abc',
        'x{a="1" b="2"} 1',
        'x{a="1",a="2"} 1',
        'x{a="open} 1',
        'x{1a="v"} 1',
        'x 1 2 3',
        'x 1 1.5',
        '# TYPE x sparkline',
        'ok 2',
      ].join('\n'),
    );
    expect(e.samples.map((s) => s.value)).toEqual([1, 2]);
    expect(e.errors.map((x) => x.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(e.errors[0].message).toBe('no value for no_value');
    expect(e.errors[3].message).toBe('label a appears twice');
  });

  it('values as Go reads them', () => {
    expect(parseSampleValue('NaN')).toBeNaN();
    expect(parseSampleValue('+Inf')).toBe(Infinity);
    expect(parseSampleValue('-inf')).toBe(-Infinity);
    expect(parseSampleValue('1e+06')).toBe(1e6);
    expect(parseSampleValue('.5')).toBe(0.5);
    expect(parseSampleValue('')).toBeUndefined();
    expect(parseSampleValue('1,5')).toBeUndefined();
  });

  it('reads several histograms and adds series together', () => {
    const e = parsePrometheusText(`# TYPE envoy_http_downstream_rq_time histogram
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="1"} 2
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="5"} 6
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="+Inf"} 8
envoy_http_downstream_rq_time_sum{envoy_http_conn_manager_prefix="public"} 30.5
envoy_http_downstream_rq_time_count{envoy_http_conn_manager_prefix="public"} 8
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="admin",le="1"} 1
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="admin",le="5"} 1
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="admin",le="+Inf"} 1
envoy_http_downstream_rq_time_sum{envoy_http_conn_manager_prefix="admin"} 0.5
envoy_http_downstream_rq_time_count{envoy_http_conn_manager_prefix="admin"} 1
# TYPE ratelimit_calls_total counter
ratelimit_calls_total{code="OK"} 10
ratelimit_calls_total{code="UNAVAILABLE"} 1
`);
    expect(histogram(e.samples, 'envoy_http_downstream_rq_time', { envoy_http_conn_manager_prefix: 'public' })).toEqual(
      {
        buckets: [
          { le: 1, count: 2 },
          { le: 5, count: 6 },
          { le: Infinity, count: 8 },
        ],
        sum: 30.5,
        count: 8,
      },
    );
    expect(histogram(e.samples, 'envoy_http_downstream_rq_time')?.buckets).toEqual([
      { le: 1, count: 3 },
      { le: 5, count: 7 },
      { le: Infinity, count: 9 },
    ]);
    expect(histogram(e.samples, 'nothing')).toBeUndefined();
    expect(sum(e.samples, 'ratelimit_calls_total')).toBe(11);
    expect(sumBy(e.samples, 'ratelimit_calls_total', 'code')).toEqual(
      new Map([
        ['OK', 10],
        ['UNAVAILABLE', 1],
      ]),
    );
  });
});

describe('histogramQuantile (as PromQL histogram_quantile)', () => {
  const b = (pairs: [number, number][]) => pairs.map(([le, count]) => ({ le, count }));
  const h = b([
    [1, 10],
    [2, 30],
    [5, 40],
    [Infinity, 40],
  ]);

  it('interpolates linearly inside the bucket that holds the rank', () => {
    // rank 20 in (1, 2]: 10 of that bucket's 20 observations → 1 + 1 × 10/20
    expect(histogramQuantile(0.5, h)).toBe(1.5);
    // rank 38 in (2, 5]: 8 of 10 → 2 + 3 × 0.8
    expect(histogramQuantile(0.95, h)).toBeCloseTo(4.4, 12);
    // rank 4 in the first bucket, which starts at 0
    expect(histogramQuantile(0.1, h)).toBe(0.4);
    expect(histogramQuantile(0.25, h)).toBe(1);
    expect(histogramQuantile(0, h)).toBe(0);
    expect(histogramQuantile(1, h)).toBe(5);
  });

  it('answers the second-highest bound when the rank is in the +Inf bucket', () => {
    const tail = b([
      [1, 10],
      [2, 30],
      [Infinity, 100],
    ]);
    expect(histogramQuantile(0.5, tail)).toBe(2);
  });

  it('sorts buckets, merges equal bounds, and raises decreasing counts', () => {
    expect(
      histogramQuantile(
        0.5,
        b([
          [Infinity, 40],
          [2, 30],
          [1, 10],
          [5, 40],
        ]),
      ),
    ).toBe(1.5);
    expect(
      histogramQuantile(
        0.5,
        b([
          [1, 5],
          [1, 5],
          [2, 20],
          [Infinity, 20],
        ]),
      ),
    ).toBe(1);
    // (2, 5] counts 25 < 30 before it: raised to 30, so the rank 20 stays in (1, 2]
    expect(
      histogramQuantile(
        0.5,
        b([
          [1, 10],
          [2, 30],
          [5, 25],
          [Infinity, 40],
        ]),
      ),
    ).toBe(1.5);
  });

  it('NaN without +Inf bucket or observations; ±Inf outside [0, 1]', () => {
    expect(
      histogramQuantile(
        0.5,
        b([
          [1, 1],
          [2, 2],
        ]),
      ),
    ).toBeNaN();
    expect(
      histogramQuantile(
        0.5,
        b([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeNaN();
    expect(histogramQuantile(0.5, b([[Infinity, 3]]))).toBeNaN();
    expect(histogramQuantile(0.5, [])).toBeNaN();
    expect(histogramQuantile(-0.1, h)).toBe(-Infinity);
    expect(histogramQuantile(1.1, h)).toBe(Infinity);
    expect(histogramQuantile(Number.NaN, h)).toBeNaN();
  });

  it('a first bucket with a bound at or below 0 is returned as is', () => {
    expect(
      histogramQuantile(
        0.1,
        b([
          [-1, 5],
          [1, 10],
          [Infinity, 10],
        ]),
      ),
    ).toBe(-1);
  });
});
