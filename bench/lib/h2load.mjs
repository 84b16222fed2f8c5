// Runs h2load (nghttp2-client) for a fixed duration and returns throughput and latency percentiles.
//
// h2load prints min/max/mean/sd of request time but no percentiles, so each run writes
// --log-file (one row per request of the measured period: start µs, HTTP status, µs to the end of
// the response; warm-up requests are not in it) and the percentiles are computed from it.
//
// h2load counts HTTP statuses only: a gRPC error is still HTTP 200 (grpc-status is in the trailers),
// so a bench must check gRPC success by other means (a real client call, the service's metrics).
import fs from 'node:fs';
import { processCpuSeconds } from './cpu.mjs';
import { runToEnd } from './processes.mjs';

/** `h2load --version`'s version ("1.52.0"), or undefined when h2load is missing. */
export async function h2loadVersion() {
  try {
    const r = await runToEnd('h2load', ['--version'], { timeoutMs: 5000 });
    return /nghttp2\/(\S+)/.exec(r.stdout)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * One timed h2load run over h2c.
 *   url          full URL (http://host:port/path)
 *   clients      -c: HTTP/2 connections
 *   streams      -m: concurrent streams per connection (total concurrency = clients × streams)
 *   threads      -t (default 1: leave the cores to the server under test)
 *   durationS    -D, seconds measured; warmupS: --warm-up-time (default 0)
 *   bodyFile     -d (POST this file), headers: ['name: value', ...] as -H each
 *   logFile      where the per-request log goes (required; kept for the caller)
 *   timeoutMs    hard limit on the whole run (default duration + warm-up + 20 s)
 * Resolves { args, reqPerSec, requests, statusCodes, latency (ms: p50, p90, p99, p999, max, mean),
 * cpuSeconds (h2load's own CPU), wallS, stdout }; rejects if h2load fails,
 * times out or reports failed/errored requests when `allowErrors` is false (default).
 */
export async function runH2load({
  url,
  clients,
  streams = 1,
  threads = 1,
  durationS,
  warmupS = 0,
  bodyFile,
  headers = [],
  logFile,
  timeoutMs,
  allowErrors = false,
  extraArgs = [],
}) {
  if (!logFile) throw new Error('runH2load: logFile is required');
  const args = ['-t', String(threads), '-c', String(clients), '-m', String(streams), '-D', String(durationS)];
  if (warmupS > 0) args.push('--warm-up-time', String(warmupS));
  if (bodyFile) args.push('-d', bodyFile);
  for (const h of headers) args.push('-H', h);
  args.push('--log-file', logFile, ...extraArgs, url);
  fs.rmSync(logFile, { force: true });
  // h2load's own CPU time, sampled from /proc while it runs (the last ≤ 200 ms are missed): one
  // file per sample (h2load -t 1 is one process), not a scan of /proc (~1.5 ms of the bench's CPU
  // each time, in the middle of the run it measures).
  let cpuSeconds = 0;
  let sampler;
  const r = await runToEnd('h2load', args, {
    name: 'h2load',
    timeoutMs: timeoutMs ?? (durationS + warmupS + 20) * 1000,
    onSpawn: (child) => {
      sampler = setInterval(() => {
        const s = processCpuSeconds(child.pid);
        if (s > cpuSeconds) cpuSeconds = s;
      }, 200);
    },
  });
  clearInterval(sampler);
  if (r.timedOut) throw new Error(`h2load timed out: h2load ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  if (r.code !== 0)
    throw new Error(`h2load exited with ${r.code ?? r.signal}: h2load ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  const summary = parseH2loadOutput(r.stdout);
  const latency = latencyFromLog(fs.readFileSync(logFile, 'utf8'));
  const bad = summary.requests.failed + summary.requests.errored + summary.requests.timeout;
  if (!allowErrors && (bad > 0 || summary.requests.succeeded === 0)) {
    throw new Error(`h2load: ${bad} failed/errored/timed-out requests of ${summary.requests.total}\n${r.stdout}`);
  }
  return { args, ...summary, latency, cpuSeconds, wallS: r.ms / 1000, stdout: r.stdout };
}

/** Parses h2load's summary: "finished in …, X req/s", the "requests:" and "status codes:" lines. */
export function parseH2loadOutput(text) {
  const num = (re) => {
    const m = re.exec(text);
    if (!m) throw new Error(`unexpected h2load output (no match for ${re}):\n${text}`);
    return Number(m[1]);
  };
  const requests = {
    total: num(/requests: (\d+) total/),
    started: num(/(\d+) started/),
    done: num(/(\d+) done/),
    succeeded: num(/(\d+) succeeded/),
    failed: num(/(\d+) failed/),
    errored: num(/(\d+) errored/),
    timeout: num(/(\d+) timeout/),
  };
  const statusCodes = {
    '2xx': num(/status codes: (\d+) 2xx/),
    '3xx': num(/(\d+) 3xx/),
    '4xx': num(/(\d+) 4xx/),
    '5xx': num(/(\d+) 5xx/),
  };
  return { reqPerSec: num(/finished in [\d.]+m?s, ([\d.]+) req\/s/), requests, statusCodes };
}

/**
 * Latency percentiles (ms) of an h2load --log-file (columns: start µs, status, duration µs); rows
 * with status -1 (failed streams) are counted apart and left out of the percentiles.
 */
export function latencyFromLog(text) {
  const durations = [];
  let failed = 0;
  const statuses = {};
  for (const line of text.split('\n')) {
    if (!line) continue;
    const cols = line.split('\t');
    const status = cols[1];
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status === '-1') {
      failed++;
      continue;
    }
    durations.push(Number(cols[2]) / 1000);
  }
  const sorted = Float64Array.from(durations).sort();
  const mean = sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1);
  return {
    count: sorted.length,
    failed,
    statuses,
    mean,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
  };
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted, p) {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}
