#!/usr/bin/env node
// What one check costs ext-authz, stage by stage, in one process (no network, no load generator,
// none of the gRPC server): decode the CheckRequest as the server reads it (check-wire.ts),
// decide (Checker.check), encode the CheckResponse, write the audit line (to a stream that drops
// it). For each: time per call (median of the batches, in a process with ext-authz's own node
// flags) and bytes of garbage per call (the heap's growth over a batch run without a collection,
// in a second process whose young generation is larger than a batch needs): the bytes are the
// same for the same code and input on any machine, a regression signal the machine's noise does
// not blur. Requests: the two of bench/ext-authz.mjs (API key, JWT from the verified-token cache).
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
if (!fs.existsSync(path.join(ROOT, 'dist/ext-authz/src/check-wire.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}
// Bytes: a young generation of 2 x 512 MB, so that a batch of 20,000 checks (~6 KB each) runs
// without a scavenge. Time: the flags ext-authz runs with (fresh pages of a 512 MB young
// generation would add page faults to every allocation).
const BYTES_FLAGS = ['--expose-gc', '--max-semi-space-size=512', '--min-semi-space-size=512'];
const { EXT_AUTHZ_NODE_FLAGS } = await import(pathToFileURL(path.join(ROOT, 'dist/ext-authz/src/node-flags.js')).href);
const TIME_FLAGS = ['--expose-gc', ...EXT_AUTHZ_NODE_FLAGS];

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

const mode = process.env.AUTHZ_STAGES_MODE; // 'time' or 'bytes' in the two measuring processes
if (mode === undefined) {
  const run = (m, flags) => {
    const r = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      env: { ...process.env, AUTHZ_STAGES_MODE: m },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 600_000,
    });
    if (r.status !== 0) {
      console.error(`bench/ext-authz-stages.mjs: the ${m} run failed (${r.status ?? r.signal})`);
      process.exit(1);
    }
    return JSON.parse(r.stdout);
  };
  const time = run('time', TIME_FLAGS);
  const bytes = run('bytes', BYTES_FLAGS);
  const bold = (text, yes) => (yes ? `**${text}**` : text);
  const rows = time.map((t, i) => {
    const total = t.stage === 'all four';
    return [
      t.label,
      bold(t.stage, total),
      bold(fmt(t.ns / 1000, 2), total),
      bold(fmt(Math.max(0, bytes[i].bytes)), total),
    ];
  });
  console.log(
    `machine: ${os.cpus().length} cores (${cpuModel()}), Node ${process.version}; ${fmt(opts.batches)} batches of ${fmt(opts.batch)} calls per stage; time with node ${TIME_FLAGS.slice(1).join(' ')}, bytes with node ${BYTES_FLAGS.slice(1).join(' ')}\n`,
  );
  console.log(markdownTable(['request', 'stage', 'µs per call', 'garbage B per call'], rows, ['l', 'l', 'r', 'r']));
  console.log(
    '\nNot counted: the gRPC server and HTTP/2 layer (~9 µs of CPU per call under h2load, BENCHMARKS.md), the metrics, the socket and pipe writes.',
  );
  process.exit(0);
}

const dist = (rel) => import(pathToFileURL(path.join(ROOT, 'dist', rel)).href);
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

const results = [];
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
  let ns = 0;
  let garbage = 0;
  for (const [stage, fn] of stages) {
    const r = await measure(fn);
    results.push({ label, stage, ...r });
    ns += r.ns;
    garbage += r.bytes;
  }
  results.push({ label, stage: 'all four', ns, bytes: garbage });
}
fs.rmSync(tmp, { recursive: true, force: true });
process.stdout.write(JSON.stringify(results));
