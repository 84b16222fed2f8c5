#!/usr/bin/env node
// Benchmark of ratelimit-service's ShouldRateLimit (gRPC) under h2load, against a no-op gRPC server
// (@grpc/grpc-js, the reference the targets were set against), with a real Redis. A second no-op on
// the service's own gRPC server (common/service-runtime/grpc-server.ts) runs beside it; the ratio
// to it, printed under the verdict, is the cost of the service's own work (Redis included). Prints
// a markdown table (requests/s, p50, p99, ratio to the no-op) and a verdict against the targets:
//   - throughput >= 0.75 x the no-op server's at the same concurrency, with real Redis;
//   - p99 < 5 ms at concurrency 16;
//   - --workers 2 serves more than --workers 1.
//
//   npm run build && node bench/ratelimit-service.mjs [--duration 10] [--warmup 2]
//     [--concurrency 16,64] [--connections 4] [--workers 1,2] [--cpu-prof DIR] [--json FILE]
//     [--store redis|memory] [--retries 2] [--rounds 3] [--rate REQ_PER_S] [--node-args "FLAGS"]
//
// --rounds N (default 3): the no-op and every --workers value run at once, and each round loads
// them one after the other at each concurrency; a round's ratios are against that round's no-op,
// and the table and verdict give the median over the rounds with its range (bench/lib/rounds.mjs).
//
// --node-args: extra node flags for ratelimit-service (e.g. "--max-semi-space-size=32"), a diagnostic.
//
// What runs: one redis-server (free port, no persistence); the two no-op servers
// (bench/lib/noop-grpc-server.mjs, one process each); then ratelimit-service from a snapshot of dist/
// with --redis, once per --workers value. Each (target, concurrency) gets one h2load run of
// --warmup + --duration seconds with `-t 1` (one h2load thread: the machine may have few cores, and
// h2load needs one of them), over --connections HTTP/2 connections carrying concurrency/connections
// streams each. That mimics Envoy, which keeps one HTTP/2 connection per worker thread to a gRPC
// cluster and multiplexes every concurrent call on it (4 connections = an Envoy with 4 workers).
//
// h2load only sees HTTP statuses (a gRPC error is an HTTP 200 with grpc-status in the trailers), so
// before each load run one real @grpc/grpc-js call must answer OK (for ratelimit-service: overall
// code OK with both descriptors matched and counted), and after it the service's
// ratelimit_calls_total must have grown by at least h2load's count with no non-OK code, and Redis
// must have received an INCRBY per limited descriptor.
//
// The machine may be shared: each run first waits (up to 30 s) for the machine to be quiet, CPU is
// accounted per process group from /proc (server, redis, h2load, and "other" = everything else),
// and a run during which other processes took more than 0.25 cores, or the hypervisor more than 5%
// of the CPU time (steal, bench/lib/disturbed-runs.mjs), is done again (--retries times at most,
// default 2), keeping the cleanest attempt; a kept run that is still disturbed is marked with * in
// the table, and the p99 target is judged on the rounds whose kept run the hypervisor left alone.
//
// --rate R (a diagnostic) offers a fixed R requests/s in total (h2load --rps R/connections per
// connection) instead of loading as fast as possible: latency below saturation. Ratios and the
// throughput verdict then mean nothing.
//
// --store memory (a diagnostic, not the targets' setting) runs the service without --redis, to
// see what Redis costs.
//
// --cpu-prof DIR runs the service under `node --cpu-prof` (profiles of every process into DIR) and
// prints the top self-time functions; numbers are then a little lower (profiler overhead).
//
// Every process runs in its own process group and is killed at the end, on failure or on Ctrl-C;
// each h2load run has a hard time limit and the whole bench a deadline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { cpuModel, startCpuMeter, waitForQuietMachine } from './lib/cpu.mjs';
import { cpuProfilesIn, summariseCpuProfiles } from './lib/cpuprofile.mjs';
import { leastDisturbed, p99Verdict, STEAL_MAX_SHARE, stealNote, stolen } from './lib/disturbed-runs.mjs';
import { grpcUnaryCall } from './lib/grpc-call.mjs';
import { GRPC_REQUEST_HEADERS, writeGrpcBody } from './lib/grpc-frame.mjs';
import { h2loadVersion, runH2load } from './lib/h2load.mjs';
import { fmt, markdownTable } from './lib/markdown.mjs';
import { startNoopGrpcServer } from './lib/noop-grpc-server.mjs';
import {
  freePort,
  httpGet,
  installCleanup,
  spawnTracked,
  stopProcess,
  waitForHttp200,
  waitForTcp,
  waitUntil,
  withOthersStopped,
} from './lib/processes.mjs';
import { metricByLabel, metricSum } from './lib/prometheus.mjs';
import { commandCalls, redisVersion, startRedis } from './lib/redis.mjs';
import { ratioCell, ratioVerdict, roundsNote, serviceLoadDefaults, summariseRounds } from './lib/rounds.mjs';
import { snapshotBuild } from './lib/snapshot.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN_REL = 'dist/ratelimit-service/src/main.js';
const RLS_PB_REL = 'dist/common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
const METHOD = '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit';
const HOST = '127.0.0.1';
const TARGET_RATIO = 0.75;
const TARGET_P99_MS = 5;
const TARGET_P99_AT = 16;
const QUIET_MAX_BUSY = 0.3; // cores busy (other processes) below which the machine counts as quiet
const QUIET_WAIT_MS = 30_000;
const FOREIGN_MAX_CORES = 0.25; // other processes' CPU during a run above which it is done again
const RETRIES_DEFAULT = 2; // --retries: extra attempts of a disturbed run

// ---------------------------------------------------------------------------------------------
// Flags.
function parseArgs(argv) {
  const o = { ...serviceLoadDefaults, duration: 10, warmup: 2, store: 'redis', retries: RETRIES_DEFAULT };
  const list = (v) => v.split(',').map((x) => Number(x.trim()));
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => inline ?? argv[++i];
    if (flag === '--duration') o.duration = Number(value());
    else if (flag === '--warmup') o.warmup = Number(value());
    else if (flag === '--concurrency') o.concurrency = list(value());
    else if (flag === '--connections') o.connections = Number(value());
    else if (flag === '--workers') o.workers = list(value());
    else if (flag === '--cpu-prof') o.cpuProf = path.resolve(value());
    else if (flag === '--node-args') o.nodeArgs = value().split(/\s+/).filter(Boolean);
    else if (flag === '--store') o.store = value();
    else if (flag === '--retries') o.retries = Number(value());
    else if (flag === '--rounds') o.rounds = Number(value());
    else if (flag === '--rate') o.rate = Number(value());
    else if (flag === '--json') o.json = path.resolve(value());
    else if (flag === '-h' || flag === '--help') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\nimport ')[0]);
      process.exit(0);
    } else usage(`unknown argument ${argv[i]}`);
  }
  const posInt = (n) => Number.isInteger(n) && n > 0;
  if (!posInt(o.duration) || !(Number.isInteger(o.warmup) && o.warmup >= 0)) usage('bad --duration/--warmup');
  if (!posInt(o.connections)) usage('bad --connections');
  if (!['redis', 'memory'].includes(o.store)) usage('--store is redis or memory');
  if (!(Number.isInteger(o.retries) && o.retries >= 0)) usage('bad --retries');
  if (!posInt(o.rounds)) usage('bad --rounds');
  if (o.rate !== undefined && !posInt(o.rate)) usage('bad --rate');
  if (!o.concurrency.every(posInt) || !o.workers.every(posInt)) usage('bad --concurrency/--workers');
  for (const c of o.concurrency) {
    if (c % o.connections !== 0 && c >= o.connections)
      usage(`concurrency ${c} is not a multiple of --connections ${o.connections}`);
  }
  return o;
}
function usage(msg) {
  console.error(
    `bench/ratelimit-service.mjs: ${msg}\nusage: node bench/ratelimit-service.mjs [--duration S] [--warmup S] [--concurrency 16,64] [--connections 4] [--workers 1,2] [--cpu-prof DIR] [--json FILE] [--store redis|memory] [--retries 2] [--rounds 3] [--rate REQ_PER_S]`,
  );
  process.exit(2);
}
const opts = parseArgs(process.argv.slice(2));

for (const rel of [MAIN_REL, RLS_PB_REL]) {
  if (!fs.existsSync(path.join(ROOT, rel))) {
    console.error(`${rel} is missing: run \`npm run build\` first`);
    process.exit(2);
  }
}

// ---------------------------------------------------------------------------------------------
// Temporary folder and cleanup; a deadline on the whole bench.
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'aigw-bench-rls-'));
installCleanup(() => fs.rmSync(TMP, { recursive: true, force: true }));
const perRunS = opts.warmup + opts.duration + 10;
const deadlineMs =
  (60 +
    opts.rounds *
      (perRunS + QUIET_WAIT_MS / 1000) *
      opts.concurrency.length *
      (2 + opts.workers.length) *
      (1 + opts.retries)) *
  1000;
setTimeout(() => {
  console.error(`\nbench deadline of ${deadlineMs / 1000} s passed; stopping`);
  process.exit(1);
}, deadlineMs).unref();

// A snapshot of the build, so that an `npm run build` elsewhere cannot swap files under a run.
const APP = snapshotBuild(ROOT, TMP);

// ---------------------------------------------------------------------------------------------
// Config and request. The config has the shape `gen build` emits (a `limit: <name>` root per limit,
// nested per key): limits of 1e9 per unit so that nothing is ever over, and every call goes all the
// way (match, Redis INCRBY+EXPIRE per descriptor, response).
const CONFIG = `# ratelimit-service bench: nothing is ever over its limit.
domain: bench
descriptors:
  - key: limit
    value: client-per-minute
    descriptors:
      - key: client
        rate_limit: { unit: minute, requests_per_unit: 1000000000 }
  - key: limit
    value: tenant-daily
    descriptors:
      - key: tenant
        value: support
        rate_limit: { unit: day, requests_per_unit: 2000000000 }
      - key: tenant
        rate_limit: { unit: day, requests_per_unit: 1000000000 }
  - key: limit
    value: tenant-model-tokens-daily
    descriptors:
      - key: tenant
        descriptors:
          - key: model
            shadow_mode: true
            rate_limit: { unit: day, requests_per_unit: 1000000000 }
  - key: limit
    value: agents-per-ip
    descriptors:
      - key: remote_address
        rate_limit: { unit: minute, requests_per_unit: 1000000000 }
`;
const CONFIG_DIR = path.join(TMP, 'config');
fs.mkdirSync(CONFIG_DIR);
fs.writeFileSync(path.join(CONFIG_DIR, 'bench.yaml'), CONFIG);

const rls = await import(pathToFileURL(path.join(APP, RLS_PB_REL)).href);
/** What Envoy sends for a request of client app-07 of tenant hr (two rate_limits actions). */
const REQUEST = create(rls.RateLimitRequestSchema, {
  domain: 'bench',
  descriptors: [
    {
      entries: [
        { key: 'limit', value: 'client-per-minute' },
        { key: 'client', value: 'app-07' },
      ],
    },
    {
      entries: [
        { key: 'limit', value: 'tenant-daily' },
        { key: 'tenant', value: 'hr' },
      ],
    },
  ],
});
const REQUEST_BYTES = toBinary(rls.RateLimitRequestSchema, REQUEST);
const BODY = writeGrpcBody(path.join(TMP, 'request.grpc'), REQUEST_BYTES);
const LIMITED_DESCRIPTORS = REQUEST.descriptors.length;

// ---------------------------------------------------------------------------------------------
// Checks of real calls.
async function checkNoop(port) {
  const r = await grpcUnaryCall({ port, path: METHOD, requestBytes: REQUEST_BYTES });
  if (r.code !== 0) throw new Error(`no-op server answered ${r.codeName}: ${r.details}`);
  return 'OK';
}

async function checkService(port) {
  const r = await grpcUnaryCall({ port, path: METHOD, requestBytes: REQUEST_BYTES });
  if (r.code !== 0) throw new Error(`ratelimit-service answered gRPC ${r.codeName}: ${r.details}`);
  const res = fromBinary(rls.RateLimitResponseSchema, r.response);
  const OK = rls.RateLimitResponse_Code.OK;
  const problems = [];
  if (res.overallCode !== OK) problems.push(`overall_code ${rls.RateLimitResponse_Code[res.overallCode]}`);
  if (res.statuses.length !== LIMITED_DESCRIPTORS) problems.push(`${res.statuses.length} statuses`);
  res.statuses.forEach((s, i) => {
    if (s.code !== OK) problems.push(`status ${i}: ${rls.RateLimitResponse_Code[s.code]}`);
    if (!s.currentLimit) problems.push(`status ${i}: no current_limit (descriptor not matched)`);
    else if (s.limitRemaining >= s.currentLimit.requestsPerUnit) problems.push(`status ${i}: not counted`);
  });
  if (problems.length) throw new Error(`ratelimit-service's answer is not a counted OK: ${problems.join('; ')}`);
  return `OK (remaining ${res.statuses.map((s) => s.limitRemaining).join(', ')})`;
}

// ---------------------------------------------------------------------------------------------
// The service.
async function startService(workers, redisUrl) {
  const grpcPort = await freePort(HOST);
  let httpPort = await freePort(HOST);
  while (httpPort === grpcPort) httpPort = await freePort(HOST);
  const nodeArgs = [...(opts.nodeArgs ?? [])];
  if (opts.cpuProf) {
    const dir = path.join(opts.cpuProf, `workers-${workers}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', dir);
  }
  const args = [
    ...nodeArgs,
    path.join(APP, MAIN_REL),
    '--config',
    CONFIG_DIR,
    ...(redisUrl ? ['--redis', redisUrl] : []),
    '--grpc-port',
    String(grpcPort),
    '--http-port',
    String(httpPort),
    '--host',
    HOST,
    '--workers',
    String(workers),
  ];
  let serving = 0;
  const child = spawnTracked(process.execPath, args, {
    name: `ratelimit-service --workers ${workers}`,
    cwd: APP,
    env: { ...process.env, LOG_LEVEL: 'info' },
    onLine: (line) => {
      if (line.includes('"msg":"serving"')) serving++;
    },
  });
  const opt = { child, timeoutMs: 20_000 };
  await waitForHttp200(`http://${HOST}:${httpPort}/readyz`, opt);
  // With --workers, /readyz turns 200 once every worker has loaded its config, which happens before
  // the worker binds the gRPC port: wait for every worker's "serving" line too, so that all of them
  // take connections from the start.
  await waitUntil(`${workers} worker(s) serving gRPC`, () => serving >= workers, opt);
  await waitForTcp(HOST, grpcPort, opt);
  // Readiness does not wait for the Redis connection: call (each on a new connection, so that the
  // cluster's round robin reaches every worker) until 2 × workers calls in a row answer OK.
  const t0 = performance.now();
  let inARow = 0;
  let firstFailure;
  await waitUntil(
    `${2 * workers} OK calls in a row`,
    async () => {
      try {
        await checkService(grpcPort);
        inARow++;
      } catch (e) {
        firstFailure ??= e.message;
        inARow = 0;
      }
      return inARow >= 2 * workers;
    },
    { ...opt, timeoutMs: 10_000, intervalMs: 20 },
  );
  const readyToOkMs = performance.now() - t0;
  if (firstFailure)
    console.error(`  note: after /readyz, calls failed for ${fmt(readyToOkMs)} ms (first: ${firstFailure})`);
  return {
    readyToOkMs,
    firstFailure,
    grpcPort,
    httpPort,
    child,
    metrics: async () => {
      const r = await httpGet(`http://${HOST}:${httpPort}/metrics`, 5000);
      if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
      return r.body;
    },
    // SIGTERM lets it (and, with --cpu-prof, every worker) write its profile before exiting.
    stop: () => stopProcess(child, { graceMs: 10_000 }),
  };
}

// ---------------------------------------------------------------------------------------------
// Load runs. The machine may be shared (other people's builds and tests, the hypervisor): each run
// waits for a quiet machine first, and a run during which other processes used more than
// FOREIGN_MAX_CORES or the hypervisor took more than STEAL_MAX_SHARE is done again (at most
// --retries times); the attempt that lost the fewest cores is kept.

/** `verify`: as leastDisturbed's (bench/lib/disturbed-runs.mjs). */
function load(target, port, concurrency, pgids, verify) {
  return leastDisturbed(() => loadOnce(target, port, concurrency, pgids), {
    verify,
    retries: opts.retries,
    disturbance: (a) => {
      if (a.cpu.foreign > FOREIGN_MAX_CORES) return `other processes used ${fmt(a.cpu.foreign, 2)} cores`;
      if (stolen(a)) return `the hypervisor took ${fmt(a.cpu.stealShare * 100)}% of the CPU`;
      return undefined;
    },
    // Cores lost either way: to other processes or to the hypervisor.
    score: (a) => a.cpu.foreign + a.cpu.steal,
  });
}

async function loadOnce(target, port, concurrency, pgids) {
  const clients = Math.min(opts.connections, concurrency);
  const streams = concurrency / clients;
  const quiet = await waitForQuietMachine({ maxBusy: QUIET_MAX_BUSY, timeoutMs: QUIET_WAIT_MS });
  if (!quiet.quiet)
    console.error(
      `  warning: the machine stayed busy (${fmt(quiet.busy, 2)} cores used by other processes) before this run`,
    );
  const meter = startCpuMeter(pgids);
  const r = await runH2load({
    url: `http://${HOST}:${port}${METHOD}`,
    clients,
    streams,
    threads: 1,
    durationS: opts.duration,
    warmupS: opts.warmup,
    bodyFile: BODY,
    headers: GRPC_REQUEST_HEADERS,
    logFile: path.join(TMP, `h2load-${target}-${concurrency}.tsv`),
    // --rate: a fixed offered load (h2load --rps is per connection), instead of as fast as possible.
    extraArgs: opts.rate ? ['--rps', String(Math.max(1, Math.round(opts.rate / clients)))] : [],
  });
  const cpu = meter.stop();
  cpu.server = cpu.noop ?? cpu.service;
  cpu.h2load = r.cpuSeconds / cpu.wallS;
  cpu.foreign = Math.max(0, cpu.machine - cpu.server - cpu.redis - cpu.h2load);
  console.error(
    `  c=${concurrency} (${clients} conn × ${streams} streams): ${fmt(r.reqPerSec)} req/s, p50 ${fmt(r.latency.p50, 2)} ms, p99 ${fmt(r.latency.p99, 2)} ms; ` +
      `CPU cores: server ${fmt(cpu.server, 2)}, redis ${fmt(cpu.redis, 2)}, h2load ${fmt(cpu.h2load, 2)}, other ${fmt(cpu.foreign, 2)}; ${stealNote(cpu)}`,
  );
  return { clients, streams, ...r, cpu, backgroundBefore: quiet.busy };
}

/** "server / redis / h2load / other" cores (CPU seconds over the run's wall time, warm-up included). */
function cpuCell(cpu) {
  const cell = [cpu.server, cpu.redis, cpu.h2load, cpu.foreign].map((x) => fmt(x, 2)).join(' / ');
  return cpu.foreign > FOREIGN_MAX_CORES ? `${cell} *` : cell;
}

/** The hypervisor's share of the run's CPU time, marked * above STEAL_MAX_SHARE. */
function stealCell(cpu) {
  return `${fmt(cpu.stealShare * 100)}${cpu.stealShare > STEAL_MAX_SHARE ? ' *' : ''}`;
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const [h2v, rv] = await Promise.all([h2loadVersion(), redisVersion()]);
  if (!h2v) throw new Error('h2load is missing (apt-get install nghttp2-client)');
  if (!rv) throw new Error('redis-server is missing');
  const machine = {
    cores: os.cpus().length,
    cpu: cpuModel(),
    memGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    redis: rv,
    h2load: h2v,
  };
  console.error(
    `machine: ${machine.cores} cores (${machine.cpu}), ${fmt(machine.memGiB, 1)} GiB, Node ${machine.node}, Redis ${machine.redis}, h2load ${machine.h2load}`,
  );
  console.error(
    `request: ${REQUEST_BYTES.length} bytes protobuf (${fs.statSync(BODY).size} framed); ${opts.warmup} s warm-up + ${opts.duration} s per run`,
  );

  const redisDir = path.join(TMP, 'redis');
  fs.mkdirSync(redisDir);
  const redis = await startRedis({ dir: redisDir, host: HOST });
  console.error(`redis-server on ${redis.url}`);
  const rows = [];
  const problems = [];
  const readiness = [];
  const disturbed = []; // non-OK answers seen only in discarded (disturbed) attempts

  // Every target runs at once; each round loads them one after the other.
  const noop = await startNoopGrpcServer({ methods: [METHOD], host: HOST });
  const noopOwn = await startNoopGrpcServer({ methods: [METHOD], host: HOST, stack: 'ours', app: APP });
  console.error(`no-op gRPC servers on ports ${noop.port} (@grpc/grpc-js) and ${noopOwn.port} (ours)`);
  const services = [];
  // ratelimit-service with Redis (or, with --store memory, its in-memory store: a diagnostic).
  for (const w of opts.workers) {
    const svc = await startService(w, opts.store === 'redis' ? redis.url : '');
    console.error(`ratelimit-service --workers ${w}: gRPC ${svc.grpcPort}, HTTP ${svc.httpPort}`);
    if (svc.firstFailure)
      readiness.push(
        `--workers ${w}: /readyz was 200 but calls failed for ${fmt(svc.readyToOkMs)} ms more (first: ${svc.firstFailure})`,
      );
    services.push({ w, svc });
  }
  // While one target is loaded the others are stopped (SIGSTOP; Redis runs on): an idle Node
  // process still collects garbage after its own load, on the cores the loaded one shares.
  const targets = [noop.child, noopOwn.child, ...services.map((s) => s.svc.child)];
  const alone = (child, fn) => withOthersStopped(targets, child, fn);
  for (let round = 1; round <= opts.rounds; round++) {
    for (const c of opts.concurrency) {
      console.error(`round ${round}/${opts.rounds}, c=${c}`);
      for (const [key, target, server] of [
        ['noop', 'no-op gRPC server (@grpc/grpc-js)', noop],
        ['noop-own', 'no-op on our gRPC server', noopOwn],
      ]) {
        const { check, r } = await alone(server.child, async () => ({
          check: await checkNoop(server.port),
          r: await load(key, server.port, c, { noop: server.child.pid, redis: redis.child.pid }),
        }));
        rows.push({ target, key, workers: 1, concurrency: c, round, check, ...r });
      }
      for (const { w, svc } of services) {
        // What the service and Redis counted during each attempt.
        const verify = async () => {
          const m0 = await svc.metrics();
          const s0 = await redis.info('commandstats');
          return async (run) => {
            const m1 = await svc.metrics();
            const s1 = await redis.info('commandstats');
            const delta = (name, labels) => metricSum(m1, name, labels) - metricSum(m0, name, labels);
            const codes0 = metricByLabel(m0, 'ratelimit_calls_total', 'code');
            const codes1 = metricByLabel(m1, 'ratelimit_calls_total', 'code');
            const v = {
              grpcOk: delta('ratelimit_calls_total', { code: 'OK' }),
              notOk: Object.entries(codes1)
                .filter(([code]) => code !== 'OK')
                .map(([code, n]) => [code, n - (codes0[code] ?? 0)])
                .filter(([, n]) => n > 0),
              incrby: commandCalls(s1, 'incrby') - commandCalls(s0, 'incrby'),
              overLimit: delta('ratelimit_descriptor_decisions_total', { decision: 'over_limit' }),
              storeErrors: delta('ratelimit_store_errors_total'),
              measured: run.requests.succeeded,
            };
            console.error(
              `    service counted ${fmt(v.grpcOk)} gRPC OK calls (h2load measured ${fmt(v.measured)} + warm-up), ` +
                `${v.notOk.length ? `non-OK: ${v.notOk.map(([k, n]) => `${k}=${n}`).join(', ')}` : 'no non-OK'}, ` +
                `Redis INCRBY +${fmt(v.incrby)} (${fmt(v.incrby / (v.grpcOk || 1), 2)} per call), ` +
                `over_limit +${v.overLimit}, store errors +${v.storeErrors}`,
            );
            return v;
          };
        };
        const { check, r } = await alone(svc.child, async () => ({
          check: await checkService(svc.grpcPort),
          r: await load(`rls-w${w}`, svc.grpcPort, c, { service: svc.child.pid, redis: redis.child.pid }, verify),
        }));
        const v = r.verified;
        const at = `--workers ${w} c=${c} round ${round}`;
        if (v.notOk.length)
          problems.push(`${at}: non-OK gRPC codes ${JSON.stringify(v.notOk)} (store errors: ${v.storeErrors})`);
        if (v.grpcOk < v.measured)
          problems.push(`${at}: service counted ${v.grpcOk} OK calls < h2load's ${v.measured}`);
        if (opts.store === 'redis' && v.incrby < v.grpcOk * LIMITED_DESCRIPTORS * 0.99)
          problems.push(`${at}: only ${v.incrby} Redis INCRBY for ${v.grpcOk} calls`);
        if (v.overLimit > 0) problems.push(`${at}: ${v.overLimit} descriptors over limit`);
        for (const o of r.others) {
          if (o.verified.notOk.length)
            disturbed.push(
              `${at}, a discarded attempt (other load ${fmt(o.cpu.foreign, 2)} cores, ${stealNote(o.cpu)}): non-OK ${JSON.stringify(o.verified.notOk)} (store errors: ${o.verified.storeErrors})`,
            );
        }
        rows.push({
          target: `ratelimit-service + ${opts.store === 'redis' ? 'Redis' : 'memory store'}`,
          key: `rls-w${w}`,
          workers: w,
          concurrency: c,
          round,
          check,
          ...r,
        });
      }
    }
  }
  await noop.stop();
  await noopOwn.stop();
  for (const { svc } of services) await svc.stop();
  await redis.stop();

  // Report: medians over the rounds; each round's ratio is against that round's no-op.
  const runs = rows;
  const summary = summariseRounds(runs, 'noop');
  const noopAt = (c) => summary.find((x) => x.key === 'noop' && x.concurrency === c);
  const table = markdownTable(
    [
      'target',
      'workers',
      'concurrency (conn × streams)',
      'requests/s',
      'p50 ms',
      'p99 ms',
      'ratio to no-op (range)',
      'server CPU µs/req',
      'CPU cores: server / redis / h2load / other',
      'steal %',
    ],
    summary.map((r) => [
      r.target,
      r.key.startsWith('noop') ? '–' : r.workers,
      `${r.concurrency} (${r.clients} × ${r.streams})`,
      fmt(r.reqPerSec),
      fmt(r.latency.p50, 2),
      fmt(r.latency.p99, 2),
      opts.rate ? '–' : r.key === 'noop' ? '1.00' : ratioCell(r.ratio),
      fmt(r.cpuPerRequestUs),
      cpuCell(r.cpu),
      stealCell(r.cpu),
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );

  const verdict = [];
  const rlsRows = summary.filter((r) => !r.key.startsWith('noop'));
  if (opts.rate)
    verdict.push(`- throughput and scaling: not measured (fixed offered load of ${opts.rate} req/s with --rate)`);
  for (const r of opts.rate ? [] : rlsRows) {
    const ratio = r.ratio.median;
    verdict.push(
      `- throughput, --workers ${r.workers}, c=${r.concurrency}: ${ratioVerdict(r.ratio)} → ${ratio >= TARGET_RATIO ? 'MET' : 'MISSED'} (target ≥ ${TARGET_RATIO})`,
    );
  }
  for (const r of rlsRows.filter((x) => x.concurrency === TARGET_P99_AT))
    verdict.push(
      `- p99 at c=${TARGET_P99_AT}, --workers ${r.workers}: ${p99Verdict(r, TARGET_P99_MS, noopAt(r.concurrency), 'the grpc-js no-op')}`,
    );
  if (opts.workers.length > 1 && !opts.rate) {
    const [w1, ...more] = [...opts.workers].sort((a, b) => a - b);
    for (const c of opts.concurrency) {
      const base = rlsRows.find((r) => r.workers === w1 && r.concurrency === c);
      for (const w of more) {
        const r = rlsRows.find((x) => x.workers === w && x.concurrency === c);
        const f = r.reqPerSec / base.reqPerSec;
        verdict.push(
          `- scaling, c=${c}: --workers ${w} = ${fmt(f, 2)} × --workers ${w1} → ${f >= 1.1 ? 'SCALES' : 'DOES NOT SCALE'} (> 1.1 counted as scaling; ideal ${w / w1}, but see the CPU column)`,
        );
      }
    }
  }
  verdict.push(
    `- gRPC checks: ${problems.length ? `PROBLEMS: ${problems.join('; ')}` : `every run preceded by a real OK call; the service counted only OK calls, at least as many as h2load${opts.store === 'redis' ? ', and 2 Redis INCRBY per call' : ''}; nothing over limit`}`,
  );

  if (disturbed.length) verdict.push(`- under other CPU load (not counted): ${disturbed.join('; ')}`);
  if (readiness.length) verdict.push(`- readiness (not counted in the runs): ${readiness.join('; ')}`);
  if (!opts.rate) {
    verdict.push('', "Against the no-op on the service's own gRPC server (the cost of its own work; not a target):");
    for (const r of summariseRounds(runs, 'noop-own').filter((x) => !x.key.startsWith('noop')))
      verdict.push(`- --workers ${r.workers}, c=${r.concurrency}: ${ratioVerdict(r.ratio, 'the no-op on our server')}`);
  }

  let profile = '';
  if (opts.cpuProf) {
    for (const w of opts.workers) {
      const files = cpuProfilesIn(path.join(opts.cpuProf, `workers-${w}`));
      if (!files.length) continue;
      const s = summariseCpuProfiles(files);
      profile += `\nCPU profile, --workers ${w} (${files.length} process(es), busy ${fmt(s.busyMs / 1000, 1)} s, idle ${fmt(s.idleMs / 1000, 1)} s):\n`;
      profile += `  by package: ${s.categories
        .slice(0, 12)
        .map((c) => `${c.name} ${fmt(c.share * 100, 1)}%`)
        .join(', ')}\n  by calling package (natives and node:* charged to their caller): ${s.callerCategories
        .slice(0, 12)
        .map((c) => `${c.name} ${fmt(c.share * 100, 1)}%`)
        .join(', ')}\n  top self time:\n`;
      for (const f of s.functions.slice(0, 25)) profile += `    ${fmt(f.share * 100, 1).padStart(5)}%  ${f.name}\n`;
    }
  }

  const out = [
    `machine: ${machine.cores} cores, ${machine.cpu}, ${fmt(machine.memGiB, 1)} GiB RAM, Node ${machine.node}, Redis ${machine.redis}, h2load ${machine.h2load} (-t 1)`,
    `each run: ${opts.warmup} s warm-up + ${opts.duration} s measured, ${opts.connections} HTTP/2 connections${opts.rate ? `, fixed offered load ${opts.rate} req/s` : ''}; request = RateLimitRequest of ${REQUEST_BYTES.length} bytes (domain bench, 2 descriptors)`,
    '',
    table,
    '',
    roundsNote(opts.rounds),
    'CPU cores = CPU seconds / wall seconds over the whole run (warm-up included), from /proc; "other" = every other process on the machine.',
    ...(runs.some((r) => r.cpu.foreign > FOREIGN_MAX_CORES)
      ? [
          `* other processes took more than ${FOREIGN_MAX_CORES} cores during the kept attempt (after ${opts.retries} retries): that row is disturbed.`,
        ]
      : []),
    `steal % = the share of the machine's CPU time the hypervisor took during the run (median over the rounds; /proc/stat); * above ${STEAL_MAX_SHARE * 100}% (the attempt with the least after ${opts.retries} retries). The p99 target is judged on the rounds that stayed under it.`,
    '',
    'Verdict:',
    ...verdict,
    profile,
  ].join('\n');
  console.log(out);
  if (opts.json)
    fs.writeFileSync(opts.json, JSON.stringify({ machine, opts, rows, problems, readiness, disturbed }, null, 2));
  if (problems.length) process.exitCode = 1;
}

main().then(
  () => process.exit(),
  (e) => {
    console.error(`\nbench failed: ${e.stack ?? e}`);
    process.exit(1);
  },
);
