// gen metrics: one look at a running gateway. Scrapes Envoy's /stats/prometheus and the
// services' /metrics, adds every scrape together, and prints requests, denials, 429s, latency
// quantiles and estimated tokens per tenant (all since the processes started).
import { parseArgs } from 'node:util';
import {
  type Exposition,
  has,
  histogram,
  histogramQuantile,
  parsePrometheusText,
  type Sample,
  sum,
  sumBy,
} from './prometheus-text.js';

export const metricsUsage = `usage: gen metrics URL… [--format table|json] [--timeout SECONDS]
  Scrapes Prometheus text from each URL (Envoy's http://HOST:STATS_PORT/stats/prometheus,
  ext-authz's and the rate-limit service's /metrics; several replicas are added together) and
  prints requests per listener, denials by status, 429s, p50/p95 latency and estimated LLM tokens
  per tenant, counted since the processes started. Exit 1 when no URL answers.`;

/** Envoy's own connection managers that are not gateway traffic: admin, and our stats listener. */
const notTraffic: ReadonlySet<string> = new Set(['admin', 'stats']);
const prefixLabel = 'envoy_http_conn_manager_prefix';

export type ScrapeResult =
  | { url: string; ok: true; samples: number; unreadable: number }
  | { url: string; ok: false; error: string };

export interface LatencyView {
  count: number;
  p50: number | null;
  p95: number | null;
}

export interface MetricsSummary {
  sources: ScrapeResult[];
  /** Envoy requests per listener, or the services' call totals when no Envoy was scraped. */
  requests:
    | { source: 'envoy'; listeners: Record<string, number> }
    | { source: 'services'; ext_authz_checks: number | null; ratelimit_calls: number | null }
    | null;
  /** ext-authz denials by HTTP status; null without ext-authz metrics. */
  denials: Record<string, number> | null;
  rate_limited: {
    envoy_over_limit: number | null;
    ratelimit_over_limit: number | null;
    ratelimit_shadow_over_limit: number | null;
    ext_authz_429: number | null;
  };
  /** Milliseconds; keys `envoy:<listener>`, `ext_authz`, `ratelimit`. */
  latency_ms: Record<string, LatencyView>;
  /** ext-authz's estimated tokens per tenant ("" = no tenant); null without ext-authz metrics. */
  tokens: Record<string, number> | null;
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;
const finite = (v: number) => (Number.isFinite(v) ? round(v) : null);

function latency(samples: Sample[], base: string, scale: number, filter = {}): LatencyView | undefined {
  const h = histogram(samples, base, filter);
  if (!h) return undefined;
  const count = h.buckets[h.buckets.length - 1].le === Infinity ? h.buckets[h.buckets.length - 1].count : h.count;
  return {
    count,
    p50: finite(histogramQuantile(0.5, h.buckets) * scale),
    p95: finite(histogramQuantile(0.95, h.buckets) * scale),
  };
}

/** The summary of every scrape added together. */
export function summarise(expositions: Exposition[], sources: ScrapeResult[] = []): MetricsSummary {
  const samples = expositions.flatMap((e) => e.samples);
  const declared = new Set(expositions.flatMap((e) => [...e.types.keys()]));
  const present = (name: string) => declared.has(name) || has(samples, name);
  const traffic = (v: string) => !notTraffic.has(v);

  const authz = present('ext_authz_decisions_total');
  const ratelimit = present('ratelimit_descriptor_decisions_total');
  let requests: MetricsSummary['requests'] = null;
  if (present('envoy_http_downstream_rq_total')) {
    const by = sumBy(samples, 'envoy_http_downstream_rq_total', prefixLabel, { [prefixLabel]: traffic });
    requests = { source: 'envoy', listeners: Object.fromEntries([...by].sort(([a], [b]) => a.localeCompare(b))) };
  } else if (authz || present('ratelimit_calls_total')) {
    requests = {
      source: 'services',
      ext_authz_checks: authz ? sum(samples, 'ext_authz_decisions_total') : null,
      ratelimit_calls: present('ratelimit_calls_total') ? sum(samples, 'ratelimit_calls_total') : null,
    };
  }

  const denials = authz
    ? Object.fromEntries(
        [...sumBy(samples, 'ext_authz_decisions_total', 'status', { decision: 'deny' })].sort(([a], [b]) =>
          a.localeCompare(b, 'en', { numeric: true }),
        ),
      )
    : null;

  // Envoy's rate-limit filter counts its 429s per upstream cluster (cluster.<name>.ratelimit.over_limit).
  const envoyOver = present('envoy_cluster_ratelimit_over_limit')
    ? sum(samples, 'envoy_cluster_ratelimit_over_limit')
    : present('envoy_http_ratelimit_over_limit')
      ? sum(samples, 'envoy_http_ratelimit_over_limit')
      : null;

  const latency_ms: Record<string, LatencyView> = {};
  const listeners = new Set(
    samples
      .filter((s) => s.name === 'envoy_http_downstream_rq_time_bucket')
      .map((s) => s.labels[prefixLabel] ?? '')
      .filter(traffic),
  );
  for (const l of [...listeners].sort()) {
    const v = latency(samples, 'envoy_http_downstream_rq_time', 1, { [prefixLabel]: l });
    if (v) latency_ms[`envoy:${l}`] = v;
  }
  const a = latency(samples, 'ext_authz_check_duration_seconds', 1000);
  if (a) latency_ms.ext_authz = a;
  const r = latency(samples, 'ratelimit_call_duration_seconds', 1000);
  if (r) latency_ms.ratelimit = r;

  const tokens = present('ext_authz_estimated_tokens_total')
    ? Object.fromEntries(
        [...sumBy(samples, 'ext_authz_estimated_tokens_total', 'tenant')].sort(([x], [y]) => x.localeCompare(y)),
      )
    : null;

  return {
    sources,
    requests,
    denials,
    rate_limited: {
      envoy_over_limit: envoyOver,
      ratelimit_over_limit: ratelimit
        ? sum(samples, 'ratelimit_descriptor_decisions_total', { decision: 'over_limit' })
        : null,
      ratelimit_shadow_over_limit: ratelimit
        ? sum(samples, 'ratelimit_descriptor_decisions_total', { decision: 'shadow_over_limit' })
        : null,
      ext_authz_429: authz ? sum(samples, 'ext_authz_decisions_total', { status: '429' }) : null,
    },
    latency_ms,
    tokens,
  };
}

/** Columns separated by two spaces; `r` columns right-aligned. */
export function alignColumns(rows: string[][], align: ('l' | 'r')[]): string[] {
  const widths = align.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (align[i] === 'r' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}

export function formatMs(v: number | null): string {
  if (v === null) return '-';
  return `${v >= 1000 ? Math.round(v) : Number(v.toPrecision(3))}ms`;
}

const latencyName = (k: string) =>
  k.startsWith('envoy:') ? `envoy listener ${k.slice(6)}` : k === 'ext_authz' ? 'ext-authz check' : 'rate-limit call';

export function formatTable(s: MetricsSummary): string[] {
  const lines: string[] = [];
  if (s.sources.length) {
    lines.push(
      ...alignColumns(
        [
          ['source', 'result'],
          ...s.sources.map((x) => [
            x.url,
            x.ok
              ? `ok, ${x.samples} samples${x.unreadable ? `, ${x.unreadable} unreadable line(s) skipped` : ''}`
              : `failed: ${x.error}`,
          ]),
        ],
        ['l', 'l'],
      ),
      '',
    );
  }
  const rows: string[][] = [['metric', 'of', 'count']];
  const add = (metric: string, entries: [string, number | null][]) => {
    const known = entries.filter((e): e is [string, number] => e[1] !== null);
    if (!known.length) rows.push([metric, 'no data', '-']);
    for (const [of, n] of known) rows.push([metric, of, String(n)]);
  };
  const q = s.requests;
  add(
    'requests',
    !q
      ? []
      : q.source === 'envoy'
        ? Object.entries(q.listeners).map(([l, n]) => [`envoy listener ${l}`, n])
        : [
            ['ext-authz checks', q.ext_authz_checks],
            ['rate-limit service calls', q.ratelimit_calls],
          ],
  );
  add(
    'denials',
    s.denials === null
      ? []
      : Object.keys(s.denials).length
        ? Object.entries(s.denials).map(([status, n]) => [`ext-authz ${status}`, n])
        : [['ext-authz', 0]],
  );
  const rl = s.rate_limited;
  add('429s', [
    ['envoy rate limit', rl.envoy_over_limit],
    ['rate-limit service over_limit', rl.ratelimit_over_limit],
    ['rate-limit service shadow (allowed)', rl.ratelimit_shadow_over_limit],
    ['ext-authz token quota', rl.ext_authz_429],
  ]);
  add('tokens', s.tokens === null ? [] : Object.entries(s.tokens).map(([t, n]) => [`tenant ${t || '(none)'}`, n]));
  lines.push(...alignColumns(rows, ['l', 'l', 'r']), '');
  const lat = Object.entries(s.latency_ms);
  lines.push(
    ...alignColumns(
      [
        ['latency', 'count', 'p50', 'p95'],
        ...(lat.length
          ? lat.map(([k, v]) => [latencyName(k), String(v.count), formatMs(v.p50), formatMs(v.p95)])
          : [['no data', '-', '-', '-']]),
      ],
      ['l', 'r', 'r', 'r'],
    ),
  );
  return lines;
}

function describeFailure(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs / 1000}s`;
  const code = err?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  return code ?? err?.cause?.message ?? err?.message ?? String(e);
}

export async function scrape(
  url: string,
  timeoutMs: number,
): Promise<{ result: ScrapeResult; exposition?: Exposition }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { result: { url, ok: false, error: 'not a URL' } };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return { result: { url, ok: false, error: `not an http(s) URL` } };
  try {
    const res = await fetch(parsed, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'text/plain;version=0.0.4' },
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { result: { url, ok: false, error: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}` } };
    }
    const exposition = parsePrometheusText(await res.text());
    return {
      result: { url, ok: true, samples: exposition.samples.length, unreadable: exposition.errors.length },
      exposition,
    };
  } catch (e) {
    return { result: { url, ok: false, error: describeFailure(e, timeoutMs) } };
  }
}

export async function metricsCommand(args: string[], out: (line: string) => void): Promise<number> {
  const usage = (message: string) => {
    out(`gen metrics: ${message}`);
    out(metricsUsage);
    return 2;
  };
  let values: { format?: string; timeout?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        format: { type: 'string', default: 'table' },
        timeout: { type: 'string', default: '5' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    }));
  } catch (e) {
    return usage((e as Error).message);
  }
  if (values.help) {
    out(metricsUsage);
    return 0;
  }
  if (positionals.length === 0) return usage('give at least one URL');
  if (values.format !== 'table' && values.format !== 'json')
    return usage(`--format must be table or json, not "${values.format}"`);
  const seconds = Number(values.timeout);
  if (!(seconds > 0 && seconds <= 600))
    return usage(`--timeout must be seconds from 0 to 600, not "${values.timeout}"`);

  const scraped = await Promise.all(positionals.map((u) => scrape(u, seconds * 1000)));
  const sources = scraped.map((s) => s.result);
  const summary = summarise(
    scraped.flatMap((s) => (s.exposition ? [s.exposition] : [])),
    sources,
  );
  const answered = sources.some((s) => s.ok);
  if (values.format === 'json') out(JSON.stringify(summary, null, 2));
  else if (!answered) {
    for (const s of sources) if (!s.ok) out(`${s.url}: failed: ${s.error}`);
    out(`gen metrics: none of the ${sources.length} URL(s) answered`);
  } else for (const l of formatTable(summary)) out(l);
  return answered ? 0 : 1;
}
