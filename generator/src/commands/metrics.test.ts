import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthzStats } from '../../../ext-authz/src/stats.js';
import { RateLimitStats } from '../../../ratelimit-service/src/stats.js';
import { metricsCommand, summarise } from './metrics.js';
import { parsePrometheusText } from './prometheus-text.js';

const envoyText = `# TYPE envoy_http_downstream_rq_total counter
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="admin"} 7
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="public"} 1200
envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="stats"} 30
# TYPE envoy_http_downstream_rq_xx counter
envoy_http_downstream_rq_xx{envoy_response_code_class="4",envoy_http_conn_manager_prefix="public"} 40
# TYPE envoy_cluster_ratelimit_over_limit counter
envoy_cluster_ratelimit_over_limit{envoy_cluster_name="backend_agents"} 3
envoy_cluster_ratelimit_over_limit{envoy_cluster_name="failover_openai_vllm-small"} 5
# TYPE envoy_http_downstream_rq_time histogram
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="0.5"} 0
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="1"} 0
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="5"} 100
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="10"} 400
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="25"} 700
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="50"} 900
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="100"} 1000
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="250"} 1150
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="500"} 1190
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="1000"} 1200
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="public",le="+Inf"} 1200
envoy_http_downstream_rq_time_sum{envoy_http_conn_manager_prefix="public"} 48000
envoy_http_downstream_rq_time_count{envoy_http_conn_manager_prefix="public"} 1200
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="admin",le="0.5"} 7
envoy_http_downstream_rq_time_bucket{envoy_http_conn_manager_prefix="admin",le="+Inf"} 7
envoy_http_downstream_rq_time_sum{envoy_http_conn_manager_prefix="admin"} 1
envoy_http_downstream_rq_time_count{envoy_http_conn_manager_prefix="admin"} 7
`;

const authzText = `# HELP ext_authz_decisions_total Decisions by route policy, allow/deny and HTTP status.
# TYPE ext_authz_decisions_total counter
ext_authz_decisions_total{route="chat-openai",decision="allow",status="200"} 900
ext_authz_decisions_total{route="chat-openai",decision="deny",status="403"} 3
ext_authz_decisions_total{route="chat-openai",decision="deny",status="401"} 10
ext_authz_decisions_total{route="execute",decision="deny",status="401"} 2
ext_authz_decisions_total{route="chat-openai",decision="deny",status="429"} 4

# HELP ext_authz_check_duration_seconds Time to decide one check.
# TYPE ext_authz_check_duration_seconds histogram
ext_authz_check_duration_seconds_bucket{le="0.0001",transport="grpc"} 0
ext_authz_check_duration_seconds_bucket{le="0.00025",transport="grpc"} 20
ext_authz_check_duration_seconds_bucket{le="0.0005",transport="grpc"} 60
ext_authz_check_duration_seconds_bucket{le="0.001",transport="grpc"} 90
ext_authz_check_duration_seconds_bucket{le="0.0025",transport="grpc"} 100
ext_authz_check_duration_seconds_bucket{le="+Inf",transport="grpc"} 100
ext_authz_check_duration_seconds_sum{transport="grpc"} 0.06
ext_authz_check_duration_seconds_count{transport="grpc"} 100
ext_authz_check_duration_seconds_bucket{le="0.0001",transport="http"} 0
ext_authz_check_duration_seconds_bucket{le="0.00025",transport="http"} 0
ext_authz_check_duration_seconds_bucket{le="0.0005",transport="http"} 0
ext_authz_check_duration_seconds_bucket{le="0.001",transport="http"} 10
ext_authz_check_duration_seconds_bucket{le="0.0025",transport="http"} 20
ext_authz_check_duration_seconds_bucket{le="+Inf",transport="http"} 20
ext_authz_check_duration_seconds_sum{transport="http"} 0.02
ext_authz_check_duration_seconds_count{transport="http"} 20

# HELP ext_authz_estimated_tokens_total LLM tokens estimated on allowed requests, by tenant.
# TYPE ext_authz_estimated_tokens_total counter
ext_authz_estimated_tokens_total{tenant="hr"} 120000
ext_authz_estimated_tokens_total{tenant="customer-service"} 30500
ext_authz_estimated_tokens_total{tenant=""} 12
`;

const ratelimitText = `# TYPE ratelimit_calls_total counter
ratelimit_calls_total{code="OK"} 1100
ratelimit_calls_total{code="UNAVAILABLE"} 2
# TYPE ratelimit_call_duration_seconds histogram
ratelimit_call_duration_seconds_bucket{le="0.0005",code="OK"} 500
ratelimit_call_duration_seconds_bucket{le="0.001",code="OK"} 1000
ratelimit_call_duration_seconds_bucket{le="+Inf",code="OK"} 1100
ratelimit_call_duration_seconds_sum{code="OK"} 0.9
ratelimit_call_duration_seconds_count{code="OK"} 1100
# TYPE ratelimit_descriptor_decisions_total counter
ratelimit_descriptor_decisions_total{domain="ai-gateway",descriptor="ai-gateway.limit_execute-per-ip.remote_address",decision="over_limit"} 3
ratelimit_descriptor_decisions_total{domain="ai-gateway",descriptor="ai-gateway.limit_department-daily.tenant_hr",decision="over_limit"} 5
ratelimit_descriptor_decisions_total{domain="ai-gateway",descriptor="ai-gateway.limit_department-daily.tenant_hr",decision="within_limit"} 2000
ratelimit_descriptor_decisions_total{domain="ai-gateway",descriptor="ai-gateway.limit_tenant-model-tokens-daily.tenant.model",decision="shadow_over_limit"} 9
`;

let server: http.Server;
let base: string;
let closedPort: number;

const listen = (s: http.Server) =>
  new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

beforeAll(async () => {
  const pages: Record<string, string> = {
    '/stats/prometheus': envoyText,
    '/authz/metrics': authzText,
    '/ratelimit/metrics': ratelimitText,
  };
  server = http.createServer((req, res) => {
    const page = pages[req.url ?? ''];
    if (req.url === '/slow') return; // never answers
    res.writeHead(page ? 200 : 404, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(page ?? 'not found');
  });
  base = `http://127.0.0.1:${await listen(server)}`;
  const closed = http.createServer();
  closedPort = await listen(closed);
  await new Promise((r) => closed.close(r));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function run(args: string[]) {
  const out: string[] = [];
  const code = await metricsCommand(args, (l) => out.push(l));
  return { code, out };
}

describe('gen metrics', () => {
  it('prints one table from Envoy, ext-authz and the rate-limit service; a failing URL is a line', async () => {
    const dead = `http://127.0.0.1:${closedPort}/metrics`;
    const urls = [`${base}/stats/prometheus`, `${base}/authz/metrics`, `${base}/ratelimit/metrics`, dead];
    const { code, out } = await run(urls);
    expect(code).toBe(0);
    const w = urls[2].length; // the longest
    expect(out).toEqual([
      `${'source'.padEnd(w)}  result`,
      `${urls[0].padEnd(w)}  ok, 23 samples`,
      `${urls[1].padEnd(w)}  ok, 24 samples`,
      `${urls[2]}  ok, 11 samples`,
      `${urls[3].padEnd(w)}  failed: connection refused`,
      '',
      'metric    of                                    count',
      'requests  envoy listener public                  1200',
      'denials   ext-authz 401                            12',
      'denials   ext-authz 403                             3',
      'denials   ext-authz 429                             4',
      '429s      envoy rate limit                          8',
      '429s      rate-limit service over_limit             8',
      '429s      rate-limit service shadow (allowed)       9',
      '429s      ext-authz token quota                     4',
      'tokens    tenant (none)                            12',
      'tokens    tenant customer-service               30500',
      'tokens    tenant hr                            120000',
      '',
      'latency                count     p50     p95',
      'envoy listener public   1200    20ms   240ms',
      'ext-authz check          120   0.5ms  2.05ms',
      'rate-limit call         1100  0.55ms     1ms',
    ]);
  });

  it('prints one JSON object', async () => {
    const { code, out } = await run([
      `${base}/stats/prometheus`,
      `${base}/authz/metrics`,
      `${base}/ratelimit/metrics`,
      `${base}/missing`,
      '--format',
      'json',
    ]);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0])).toEqual({
      sources: [
        { url: `${base}/stats/prometheus`, ok: true, samples: 23, unreadable: 0 },
        { url: `${base}/authz/metrics`, ok: true, samples: 24, unreadable: 0 },
        { url: `${base}/ratelimit/metrics`, ok: true, samples: 11, unreadable: 0 },
        { url: `${base}/missing`, ok: false, error: 'HTTP 404 Not Found' },
      ],
      requests: { source: 'envoy', listeners: { public: 1200 } },
      denials: { '401': 12, '403': 3, '429': 4 },
      rate_limited: {
        envoy_over_limit: 8,
        ratelimit_over_limit: 8,
        ratelimit_shadow_over_limit: 9,
        ext_authz_429: 4,
      },
      latency_ms: {
        'envoy:public': { count: 1200, p50: 20, p95: 240 },
        ext_authz: { count: 120, p50: 0.5, p95: 2.05 },
        ratelimit: { count: 1100, p50: 0.55, p95: 1 },
      },
      tokens: { '': 12, 'customer-service': 30500, hr: 120000 },
    });
  });

  it('counts the services’ calls when there is no Envoy', async () => {
    const { code, out } = await run([`${base}/authz/metrics`, `${base}/ratelimit/metrics`]);
    expect(code).toBe(0);
    expect(out.slice(4)).toEqual([
      'metric    of                                    count',
      'requests  ext-authz checks                        919',
      'requests  rate-limit service calls               1102',
      'denials   ext-authz 401                            12',
      'denials   ext-authz 403                             3',
      'denials   ext-authz 429                             4',
      '429s      rate-limit service over_limit             8',
      '429s      rate-limit service shadow (allowed)       9',
      '429s      ext-authz token quota                     4',
      'tokens    tenant (none)                            12',
      'tokens    tenant customer-service               30500',
      'tokens    tenant hr                            120000',
      '',
      'latency          count     p50     p95',
      'ext-authz check    120   0.5ms  2.05ms',
      'rate-limit call   1100  0.55ms     1ms',
    ]);
  });

  it('exits 1 when no URL answers; 2 on usage errors', async () => {
    const all = await run([
      `http://127.0.0.1:${closedPort}/metrics`,
      'ftp://x/metrics',
      `${base}/slow`,
      '--timeout',
      '0.2',
    ]);
    expect(all.code).toBe(1);
    expect(all.out).toEqual([
      `http://127.0.0.1:${closedPort}/metrics: failed: connection refused`,
      'ftp://x/metrics: failed: not an http(s) URL',
      `${base}/slow: failed: no answer within 0.2s`,
      'gen metrics: none of the 3 URL(s) answered',
    ]);
    expect((await run([])).code).toBe(2);
    expect((await run([base, '--format', 'xml'])).code).toBe(2);
    expect((await run([base, '--timeout', 'soon'])).code).toBe(2);
  });
});

describe('summarise', () => {
  it('knows a service that has exported nothing yet from one that is absent', () => {
    const s = summarise([
      parsePrometheusText(
        '# TYPE ext_authz_decisions_total counter\n# TYPE ext_authz_estimated_tokens_total counter\n',
      ),
    ]);
    expect(s.requests).toEqual({ source: 'services', ext_authz_checks: 0, ratelimit_calls: null });
    expect(s.denials).toEqual({});
    expect(s.tokens).toEqual({});
    expect(s.rate_limited).toEqual({
      envoy_over_limit: null,
      ratelimit_over_limit: null,
      ratelimit_shadow_over_limit: null,
      ext_authz_429: 0,
    });
    expect(s.latency_ms).toEqual({});
  });

  it("uses the http filter's over_limit when the cluster stat is absent", () => {
    const s = summarise([
      parsePrometheusText('envoy_http_ratelimit_over_limit{envoy_http_conn_manager_prefix="public"} 6\n'),
    ]);
    expect(s.rate_limited.envoy_over_limit).toBe(6);
  });

  it('reads what the services themselves export (names kept in step with their stats.ts)', async () => {
    const authzRegistry = new Registry();
    const authz = new AuthzStats(authzRegistry);
    authz.decisions.inc({ route: 'chat-openai', decision: 'deny', status: '403' }, 2);
    authz.decisions.inc({ route: 'chat-openai', decision: 'deny', status: '429' });
    authz.decisions.inc({ route: 'chat-openai', decision: 'allow', status: '200' }, 5);
    authz.estimatedTokens.inc({ tenant: 'hr' }, 700);
    for (const s of [0.0002, 0.0002, 0.0004, 0.002]) authz.duration.observe({ transport: 'grpc' }, s);
    const rlRegistry = new Registry();
    const rl = new RateLimitStats(rlRegistry);
    rl.calls.inc({ code: 'OK' }, 8);
    rl.decisions.inc({ domain: 'd', descriptor: 'd.limit_x', decision: 'over_limit' }, 3);
    rl.callDuration.observe({ code: 'OK' }, 0.0003);
    const s = summarise([
      parsePrometheusText(await authzRegistry.metrics()),
      parsePrometheusText(await rlRegistry.metrics()),
    ]);
    expect(s).toMatchObject({
      requests: { source: 'services', ext_authz_checks: 8, ratelimit_calls: 8 },
      denials: { '403': 2, '429': 1 },
      rate_limited: {
        envoy_over_limit: null,
        ratelimit_over_limit: 3,
        ratelimit_shadow_over_limit: 0,
        ext_authz_429: 1,
      },
      tokens: { hr: 700 },
    });
    // 4 checks: 2 in (0.1, 0.25] ms, 1 in (0.25, 0.5], 1 in (1, 2.5]; the median is rank 2 → 0.25 ms
    expect(s.latency_ms.ext_authz).toEqual({ count: 4, p50: 0.25, p95: 2.2 });
    expect(s.latency_ms.ratelimit?.count).toBe(1);
  });
});
