#!/usr/bin/env node
// What one check costs ext-authz, stage by stage, in this process (no network, no load generator,
// none of the gRPC server): decode the CheckRequest as the server reads it (check-wire.ts),
// decide (Checker.check), encode the CheckResponse, write the audit line (to a stream that drops
// it). For each: time per call (median of the batches) and bytes of garbage per call. The bytes
// are the heap's growth over a batch run without a collection (a young generation larger than the
// batch needs): the same code and input give the same figure on any machine, a regression signal
// the machine's noise does not blur. Requests: the two of bench/ext-authz.mjs (API key, JWT from
// the verified-token cache).
//
//   npm run build && node bench/ext-authz-stages.mjs [--batch 20000] [--batches 5]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { prepareAuthzFixture } from './lib/authz-fixture.mjs';
import { cpuModel } from './lib/cpu.mjs';
import { fmt, markdownTable } from './lib/markdown.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// A young generation of 2 × 512 MB: a batch of 20,000 checks (~6 KB each) runs without a scavenge.
const FLAGS = ['--expose-gc', '--max-semi-space-size=512', '--min-semi-space-size=512'];

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, [...FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

function parseArgs(argv) {
  const o = { batch: 20_000, batches: 5 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => Number(inline ?? argv[++i]);
    if (flag === '--batch') o.batch = value();
    else if (flag === '--batches') o.batches = value();
    else {
      console.error(`bench/ext-authz-stages.mjs: unknown argument ${argv[i]} (see the header of the file)`);
      process.exit(2);
    }
  }
  if (!(o.batch > 0 && o.batch <= 50_000 && o.batches > 0)) {
    console.error('bench/ext-authz-stages.mjs: --batch is 1..50000, --batches > 0');
    process.exit(2);
  }
  return o;
}
const opts = parseArgs(process.argv.slice(2));

const dist = (rel) => import(pathToFileURL(path.join(ROOT, 'dist', rel)).href);
if (!fs.existsSync(path.join(ROOT, 'dist/ext-authz/src/check-wire.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
const { checkInputFromWire, checkResponseToWire } = await dist('ext-authz/src/check-wire.js');
const { Checker, PolicyRuntime } = await dist('ext-authz/src/check.js');
const { loadPolicy } = await dist('ext-authz/src/policy.js');
const { UpstreamCredentials } = await dist('ext-authz/src/upstream-credentials.js');
const { auditDecision } = await dist('ext-authz/src/audit.js');
const { createLogger } = await dist('common/service-runtime/index.js');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aigw-bench-stages-'));
const fixture = await prepareAuthzFixture({ app: ROOT, root: ROOT, tmp });
const runtime = new PolicyRuntime(loadPolicy(fixture.file), 262_144);
const checker = new Checker(() => runtime, new UpstreamCredentials());
// As ext-authz's own logger (main.ts), writing to a stream that drops the bytes.
const log = createLogger('ext-authz', {
  level: 'info',
  batch: { maxDelayMs: 20 },
  stream: new Writable({ write: (_chunk, _encoding, done) => done() }),
});

/** Time (ns per call, median over the batches) and garbage (bytes per call, median). */
async function measure(fn) {
  const ns = [];
  const bytes = [];
  for (let i = 0; i < 2000; i++) await fn(); // warm up: optimised code, caches filled
  for (let b = 0; b < opts.batches; b++) {
    globalThis.gc();
    const h0 = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < opts.batch; i++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
    const t1 = process.hrtime.bigint();
    bytes.push((process.memoryUsage().heapUsed - h0) / opts.batch);
    ns.push(Number(t1 - t0) / opts.batch);
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { ns: median(ns), bytes: median(bytes) };
}

const rows = [];
for (const [kind, label] of [
  ['apikey', 'API key (x-api-key)'],
  ['jwt', 'JWT RS256 (cache hit)'],
]) {
  // The request as the gRPC server hands it over: the message's bytes in a Buffer.
  const bytes = Buffer.from(fixture.requests[kind]);
  const input = checkInputFromWire(bytes);
  const decision = await checker.check(input); // the first JWT is verified (and cached) here
  if (!decision.allow) throw new Error(`${kind}: the check was denied: ${decision.status} ${decision.reason}`);
  const stages = [
    ['decode CheckRequest', () => checkInputFromWire(bytes)],
    // Decided at once (an API key, a cached JWT), which leaves its input as it was: one input serves.
    ['decide (Checker.check)', () => checker.check(input)],
    ['encode CheckResponse', () => checkResponseToWire(decision)],
    ['audit line', () => auditDecision(log, input, decision, 0.123, 'grpc')],
  ];
  const results = [];
  for (const [stage, fn] of stages) results.push([stage, await measure(fn)]);
  let ns = 0;
  let garbage = 0;
  for (const [stage, r] of results) {
    rows.push([label, stage, fmt(r.ns / 1000, 2), fmt(Math.max(0, r.bytes))]);
    ns += r.ns;
    garbage += r.bytes;
  }
  rows.push([label, '**all four**', `**${fmt(ns / 1000, 2)}**`, `**${fmt(garbage)}**`]);
}
fs.rmSync(tmp, { recursive: true, force: true });

console.log(
  `machine: ${os.cpus().length} cores (${cpuModel()}), Node ${process.version}; ${opts.batches} batches of ${fmt(opts.batch)} calls per stage, node ${FLAGS.join(' ')}\n`,
);
console.log(markdownTable(['request', 'stage', 'µs per call', 'garbage B per call'], rows, ['l', 'l', 'r', 'r']));
console.log(
  '\nNot counted: the gRPC server and HTTP/2 layer (~9 µs of CPU per call under h2load, BENCHMARKS.md), the metrics, the socket and pipe writes.',
);
