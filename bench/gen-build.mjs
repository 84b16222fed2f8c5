#!/usr/bin/env node
// Benchmark of `gen build`: generates gateway files with 100, 1,000 and 10,000 routes (or the
// sizes given as arguments), runs the whole CLI process on each several times and prints a
// markdown table of wall time and peak RSS, the CPU time, a fit of how it grows, and a verdict
// against the target "10,000 routes in under 3 s including Node start-up, growing linearly".
//
//   npm run build && node bench/gen-build.mjs [--outputs=kubernetes,kong|none] [SIZE ...]
//   BENCH_RSS=hook node bench/gen-build.mjs   # measure RSS/CPU with an --import hook, not /usr/bin/time
//
// Only node: built-ins, `yaml` and bench/lib. Everything is written into a temporary folder that is removed
// at the end (also on failure or Ctrl-C). No single run may take more than 60 s. The CLI runs
// from a copy of dist/ taken at the start (with package.json and a node_modules link beside it),
// so that an `npm run build` elsewhere cannot swap files under a run.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { snapshotBuild } from './lib/snapshot.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI_REL = 'dist/generator/src/cli.js';
const RUNS = 5; // counted runs per size
const WARMUPS = 1; // uncounted runs before them
const RUN_TIMEOUT_MS = 60_000;
const TARGET_ROUTES = 10_000;
const TARGET_MS = 3_000;

// --outputs=LIST (comma-separated, or `none`): the gateway files set `outputs:` to it, so gen build
// writes only those deployment outputs besides envoy/, ratelimit/, ext-authz/. Default: no
// `outputs:` field, i.e. every output.
const outputsArg = process.argv.slice(2).find((a) => a.startsWith('--outputs='));
const OUTPUTS = outputsArg
  ? outputsArg
      .slice('--outputs='.length)
      .split(',')
      .filter((o) => o && o !== 'none')
  : undefined;
const sizeArgs = process.argv.slice(2).filter((a) => !a.startsWith('--outputs='));
const sizes = sizeArgs.length ? sizeArgs.map((a) => Number(a.replaceAll(/[,_]/g, ''))) : [100, 1_000, 10_000];
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error(
    `usage: node bench/gen-build.mjs [--outputs=LIST|none] [ROUTES ...]   (positive integers, default 100 1000 10000); got: ${process.argv.slice(2).join(' ')}`,
  );
  process.exit(2);
}
if (!fs.existsSync(path.join(ROOT, CLI_REL))) {
  console.error(`${CLI_REL} is missing: run \`npm run build\` first`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Temporary folder, removed whatever happens.
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'aigw-bench-gen-build-'));
const live = new Set(); // running child processes (their process groups are killed on abort)
function cleanup() {
  for (const child of live) killGroup(child);
  fs.rmSync(TMP, { recursive: true, force: true });
}
process.on('exit', cleanup);
// The snapshot of the built CLI (see the top of the file).
const APP = snapshotBuild(ROOT, TMP);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\ninterrupted (${sig}); removing ${TMP}`);
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------
// A deterministic pseudo-random generator (mulberry32), so that every run benchmarks the same files.
// Key digests use crypto random bytes: they only need to be unique, and they never steer the shape.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TENANTS = [
  'hr',
  'finance',
  'legal',
  'sales',
  'marketing',
  'support',
  'engineering',
  'research',
  'platform',
  'security',
  'operations',
  'data',
];
const CHAT_MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'o3-mini',
  'claude-sonnet',
  'llama-3.1-70b',
  'llama-3.1-8b',
  'mistral-large',
  'qwen-2.5-72b',
  'gemma-2-27b',
  'phi-4',
];
const EMBED_MODELS = ['text-embedding-3-small', 'text-embedding-3-large', 'bge-m3', 'e5-large'];

/** The backends: 8 providers (openai-compatible over https with a key from the environment),
 *  6 in-cluster model servers (openai-compatible over http, health-checked) and 6 plain http
 *  services (health-checked). */
function makeBackends() {
  const providers = [
    'openai',
    'azure-openai',
    'mistral',
    'together',
    'groq',
    'fireworks',
    'deepinfra',
    'openrouter',
  ].map((name) => ({
    name,
    kind: 'openai-compatible',
    url: `https://api.${name}.example.com`,
    credential: { env: `${name.toUpperCase().replaceAll('-', '_')}_API_KEY` },
    connect_timeout: '3s',
  }));
  const models = ['vllm-large', 'vllm-small', 'vllm-next', 'vllm-embed', 'tgi-code', 'ollama-lab'].map((name, i) => ({
    name,
    kind: 'openai-compatible',
    url: `http://${name}.models.svc.cluster.local:${8000 + i}`,
    health_check: { path: '/health', interval: '5s' },
    ...(i % 2 ? { max_connections: 512 } : {}),
  }));
  const services = ['agents', 'research-agents', 'rag-search', 'doc-parser', 'transcribe', 'feedback'].map((name) => ({
    name,
    kind: 'http',
    url: `http://${name}.apps.svc.cluster.local:8080`,
    health_check: { path: '/healthz', interval: '10s', timeout: '1s', unhealthy_threshold: 3 },
  }));
  return { providers, models, services, all: [...providers, ...models, ...services] };
}

/** 50 API-key clients over 12 tenants, 1 or 2 key digests each (the second one expiring), some
 *  narrowed to a list of models. */
function makeClients(rand) {
  return Array.from({ length: 50 }, (_, i) => {
    const c = { name: `app-${String(i + 1).padStart(2, '0')}`, tenant: TENANTS[i % TENANTS.length] };
    if (i % 3 === 0)
      c.models = [
        ...new Set([
          CHAT_MODELS[i % CHAT_MODELS.length],
          `${CHAT_MODELS[(i + 3) % 5]}*`,
          EMBED_MODELS[i % EMBED_MODELS.length],
        ]),
      ];
    c.keys = [{ sha256: randomBytes(32).toString('hex') }];
    if (rand() < 0.3) c.keys.push({ sha256: randomBytes(32).toString('hex'), expires: `2027-0${1 + (i % 9)}-15` });
    return c;
  });
}

/**
 * The routes, in blocks of one "team" each. Every path starts with /team-N/ (with the slash, so
 * that /team-1/ is not a prefix of /team-10/): no route shadows another. Block kinds rotate:
 *   chat      POST exact /team-N/v1/chat/completions: 2-3 routes told apart by body `model`
 *             (a personal-data route first in some), then a catch-all; mixes failover + retries,
 *             weighted splits and streaming;
 *   embed     POST exact /team-N/v1/embeddings: one body-model route + a catch-all;
 *   models    GET exact /team-N/v1/models, anonymous;
 *   agents    prefix /team-N/agents/ on plain http, a header-matched canary before the main route;
 *   rag       exact /team-N/rag/query (POST) and prefix /team-N/docs/ (GET, HEAD) on plain http.
 */
function makeRoutes(n, rand, backends, clients) {
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const llm = [...backends.providers, ...backends.models].map((b) => b.name);
  const inHouse = backends.models.map((b) => b.name).filter((b) => b !== 'vllm-embed');
  const tenantsOf = (k) => [...new Set(Array.from({ length: k }, () => pick(TENANTS)))];
  const clientsOf = (k) => [...new Set(Array.from({ length: k }, () => pick(clients).name))];
  const authFor = (i) => {
    switch (i % 6) {
      case 0:
        return { api_key: true, jwt: ['portal'] };
      case 1:
        return { api_key: true };
      case 2:
        return { api_key: true, tenants: tenantsOf(2) };
      case 3:
        return { api_key: true, clients: clientsOf(3) };
      case 4:
        return { jwt: ['portal'], scopes: ['llm:use'] };
      default:
        return { api_key: true, jwt: ['portal'], tenants: tenantsOf(3) };
    }
  };
  const routes = [];
  const kinds = { chat: [], embed: [], models: [], agents: [], rag: [] };
  const add = (kind, r) => {
    routes.push(r);
    kinds[kind].push(r.name);
  };
  for (let team = 1; routes.length < n; team++) {
    const t = `team-${team}`;
    const auth = authFor(team);
    switch (team % 5) {
      case 1:
      case 3: {
        // chat: body-model group + catch-all
        const chat = { path: { exact: `/${t}/v1/chat/completions` }, methods: ['POST'] };
        if (team % 3 === 0) {
          add('chat', {
            name: `${t}-chat-personal-data`,
            match: { ...chat, personal_data: true },
            backend: pick(inHouse),
            streaming: true,
            auth,
          });
        }
        const k = 2 + (team % 2);
        const start = Math.floor(rand() * CHAT_MODELS.length);
        for (let j = 0; j < k; j++) {
          const model = CHAT_MODELS[(start + j) % CHAT_MODELS.length];
          const body = j === 0 && team % 4 === 1 ? { model: [model, `${model}-latest`] } : { model };
          const r = { name: `${t}-chat-${model.replaceAll('.', '-')}`, match: { ...chat, body } };
          const style = (team + j) % 4;
          if (style === 0) {
            const primary = pick(backends.providers).name;
            r.backend = primary;
            r.failover = [pick(inHouse)];
            r.retries = {
              attempts: 2,
              on: ['429', '5xx', 'reset', 'connect-failure'],
              backoff: { base: '250ms', max: '2s' },
            };
          } else if (style === 1) {
            const a = pick(inHouse);
            const b = inHouse[(inHouse.indexOf(a) + 1) % inHouse.length];
            r.backends = [
              { name: a, weight: 90 },
              { name: b, weight: 10 },
            ];
          } else if (style === 2) {
            r.backend = pick(llm);
            r.retries = { attempts: 1, on: ['connect-failure', 'reset'] };
          } else {
            r.backend = pick(llm);
            r.models = [model];
          }
          if (rand() < 0.6) r.streaming = true;
          else r.timeout = `${30 + Math.floor(rand() * 90)}s`;
          r.auth = auth;
          add('chat', r);
        }
        add('chat', {
          name: `${t}-chat`,
          match: chat,
          backend: pick(inHouse),
          streaming: true,
          retries: { attempts: 1, on: ['connect-failure', 'reset'] },
          auth,
        });
        break;
      }
      case 2: {
        // embeddings + model list
        const embed = { path: { exact: `/${t}/v1/embeddings` }, methods: ['POST'] };
        add('embed', {
          name: `${t}-embed-provider`,
          match: { ...embed, body: { model: pick(EMBED_MODELS) } },
          backend: pick(backends.providers).name,
          timeout: '30s',
          auth,
        });
        add('embed', { name: `${t}-embed`, match: embed, backend: 'vllm-embed', timeout: '30s', auth });
        add('models', {
          name: `${t}-models`,
          match: { path: { exact: `/${t}/v1/models` }, methods: ['GET'] },
          backend: pick(inHouse),
          timeout: '10s',
          auth: 'anonymous',
        });
        break;
      }
      case 4: {
        // agents: canary by header, then the main route
        const agents = { path: { prefix: `/${t}/agents/` }, methods: ['GET', 'POST'] };
        add('agents', {
          name: `${t}-agents-canary`,
          match: {
            ...agents,
            headers: [
              { name: 'x-canary', exact: 'true' },
              { name: 'x-team', present: true },
            ],
          },
          backend: 'research-agents',
          timeout: '120s',
          auth,
        });
        add('agents', {
          name: `${t}-agents`,
          match: team % 3 ? agents : { path: agents.path },
          backend: 'agents',
          failover: ['research-agents'],
          timeout: '120s',
          auth,
        });
        break;
      }
      default: {
        // retrieval services on plain http
        add('rag', {
          name: `${t}-rag`,
          match: {
            path: { exact: `/${t}/rag/query` },
            methods: ['POST'],
            headers: [{ name: 'content-type', prefix: 'application/json' }],
          },
          backend: 'rag-search',
          timeout: '20s',
          auth,
        });
        add('rag', {
          name: `${t}-docs`,
          match: { path: { prefix: `/${t}/docs/` }, methods: ['GET', 'HEAD'] },
          backends: [
            { name: 'doc-parser', weight: 80 },
            { name: 'feedback', weight: 20 },
          ],
          auth,
        });
        break;
      }
    }
  }
  // Cut to exactly n; drop names of routes that fell off the end.
  const kept = routes.slice(0, n);
  const names = new Set(kept.map((r) => r.name));
  for (const k of Object.keys(kinds)) kinds[k] = kinds[k].filter((x) => names.has(x));
  return { routes: kept, kinds };
}

/** 10 limits: per ip, client, tenant and [tenant, model], on requests and tokens; about half with
 *  a `routes:` list. Token and per-model limits list only LLM routes. */
function makeLimits(kinds) {
  const every = (list, k) => list.filter((_, i) => i % k === 0);
  const nonEmpty = (list, fallback) => (list.length ? list : fallback);
  const llmRoutes = [...kinds.chat, ...kinds.embed];
  const limits = [
    { name: 'agents-per-ip', per: 'ip', requests: '60/minute', routes: nonEmpty(kinds.agents, undefined) },
    { name: 'models-per-ip', per: 'ip', requests: '600/minute', routes: nonEmpty(kinds.models, undefined) },
    { name: 'client-per-minute', per: 'client', requests: '600/minute', routes: nonEmpty(llmRoutes, undefined) },
    { name: 'client-per-second', per: 'client', requests: '20/second', algorithm: 'token_bucket' },
    {
      name: 'tenant-daily',
      per: 'tenant',
      requests: '5000/day',
      overrides: { hr: '2000/day', support: '10000/day', engineering: '50000/day' },
    },
    {
      name: 'tenant-chat-hourly',
      per: 'tenant',
      requests: '2000/hour',
      routes: nonEmpty(every(kinds.chat, 4), undefined),
      algorithm: 'sliding_window',
    },
    { name: 'tenant-tokens-per-minute', per: 'tenant', tokens: '200000/minute' },
    { name: 'tenant-model-tokens-daily', per: ['tenant', 'model'], tokens: '5000000/day', shadow: true },
    {
      name: 'client-tokens-hourly',
      per: 'client',
      tokens: '1000000/hour',
      routes: nonEmpty(every(llmRoutes, 2), undefined),
    },
    { name: 'rag-per-ip', per: 'ip', requests: '120/minute', routes: nonEmpty(kinds.rag, undefined) },
  ];
  // A limit whose routes all fell off a tiny file applies nowhere useful: drop it rather than
  // let it default to every route.
  return limits.filter((l) => !('routes' in l) || l.routes !== undefined);
}

function makeGateway(n, seed = 42) {
  const rand = rng(seed + n);
  const backends = makeBackends();
  const clients = makeClients(rand);
  const { routes, kinds } = makeRoutes(n, rand, backends, clients);
  return {
    version: 1,
    ...(OUTPUTS ? { outputs: OUTPUTS } : {}),
    gateway: { name: 'ai-gateway', namespace: 'ai-gateway' },
    listeners: [
      { name: 'public', port: 8080, hosts: ['llm.example.internal', 'llm.example.internal:8080'], trusted_proxies: 1 },
    ],
    backends: backends.all,
    clients,
    jwt_providers: [
      {
        name: 'portal',
        issuer: 'https://login.example.internal/realms/staff',
        audiences: ['ai-gateway'],
        algorithms: ['RS256'],
        jwks: { url: 'https://login.example.internal/realms/staff/protocol/openid-connect/certs' },
        claims: { client: 'azp', tenant: 'department', scopes: 'scope' },
      },
    ],
    routes,
    limits: makeLimits(kinds),
    personal_data: {
      detect: ['email', 'phone', 'card'],
      patterns: [{ name: 'employee-id', regex: '\\bEMP-[0-9]{6}\\b' }],
    },
    services: {
      redis: {
        url: 'redis://redis.ai-gateway.svc.cluster.local:6379',
        password: { secret: { name: 'redis-auth', key: 'password' } },
        when_down: 'local',
      },
      ratelimit: { replicas: 2, timeout: '100ms', on_error: 'deny' },
      ext_authz: { replicas: 2, timeout: '250ms', max_body_bytes: 262144 },
      envoy: { replicas: 3 },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running the CLI, with wall time (measured here, around the child) and peak RSS of the process.
function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {}
}

/** Runs a command in its own process group; kills the whole group after RUN_TIMEOUT_MS. */
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: APP, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      killGroup(child);
      reject(new Error(`timed out after ${RUN_TIMEOUT_MS / 1000} s: ${cmd} ${args.join(' ')}`));
    }, RUN_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, ms, stdout, stderr });
    });
  });
}

// Peak RSS: GNU time's %M (kilobytes) when it is there and works, else a preloaded hook that
// prints process.resourceUsage().maxRSS (kilobytes) on exit. BENCH_RSS=hook forces the hook.
const RSS_MARK = '__BENCH_MAXRSS_KB=';
const hook = `data:text/javascript,process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('\\n${RSS_MARK}'+u.maxRSS+' '+u.userCPUTime/1e6+' '+u.systemCPUTime/1e6+'\\n')})`;
// Also the CPU time (user + system) of the process: unlike wall time, it hardly moves when other
// work shares the machine.
const TIME_FORMAT = `${RSS_MARK}%M %U %S`;
const MARK_RE = new RegExp(`\\n?${RSS_MARK}(\\d+) ([\\d.]+) ([\\d.]+)\\n?`);
const gnuTime = (() => {
  if (process.env.BENCH_RSS === 'hook' || !fs.existsSync('/usr/bin/time')) return false;
  const r = spawnSync('/usr/bin/time', ['-f', TIME_FORMAT, process.execPath, '-e', '0'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return r.status === 0 && MARK_RE.test(r.stderr);
})();
const rssMethod = gnuTime
  ? '/usr/bin/time -f %M (max RSS of the node process, KiB)'
  : "node --import data: hook printing process.resourceUsage().maxRSS on 'exit'";

async function gen(args) {
  const r = gnuTime
    ? await run('/usr/bin/time', ['-f', TIME_FORMAT, process.execPath, CLI_REL, ...args])
    : await run(process.execPath, ['--import', hook, CLI_REL, ...args]);
  const m = r.stderr.match(MARK_RE);
  return {
    ...r,
    rssKiB: m ? Number(m[1]) : Number.NaN,
    cpuMs: m ? (Number(m[2]) + Number(m[3])) * 1000 : Number.NaN,
    stderr: r.stderr.replace(MARK_RE, ''),
  };
}

function dirBytes(dir) {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (x, digits = 0) =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Least-squares fit of y = a + b·x + c·x² (exact through three points). */
function fitQuadratic(points) {
  // Normal equations, solved by Cramer's rule.
  const S = (k) => points.reduce((t, [x]) => t + x ** k, 0);
  const T = (k) => points.reduce((t, [x, y]) => t + y * x ** k, 0);
  const m = [
    [S(0), S(1), S(2)],
    [S(1), S(2), S(3)],
    [S(2), S(3), S(4)],
  ];
  const v = [T(0), T(1), T(2)];
  const det = (q) =>
    q[0][0] * (q[1][1] * q[2][2] - q[1][2] * q[2][1]) -
    q[0][1] * (q[1][0] * q[2][2] - q[1][2] * q[2][0]) +
    q[0][2] * (q[1][0] * q[2][1] - q[1][1] * q[2][0]);
  const d = det(m);
  const col = (j) => det(m.map((row, i) => row.map((x, k) => (k === j ? v[i] : x))));
  return { a: col(0) / d, b: col(1) / d, c: col(2) / d };
}

function fail(what, r) {
  console.error(`\n${what} failed (exit ${r.code ?? r.signal}):\n${r.stderr.trim() || r.stdout.trim()}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
async function main() {
  const ordered = [...new Set(sizes)].sort((a, b) => a - b);
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  console.log(
    `gen build benchmark: ${ordered.map((n) => fmt(n)).join(', ')} routes; ${RUNS} runs each after ${WARMUPS} warm-up`,
  );
  console.log(
    `node ${process.version}; peak RSS via ${rssMethod}; wall time measured by the parent around the whole process`,
  );
  console.log(`command: node ${CLI_REL} build FILE --out DIR (from a copy of dist/); load average at start: ${load()}`);
  console.log(
    `outputs: ${OUTPUTS ? `[${OUTPUTS.join(', ')}] (besides envoy/, ratelimit/, ext-authz/)` : 'all (no outputs: field)'}`,
  );

  const files = new Map();
  for (const n of ordered) {
    const file = path.join(TMP, `gateway-${n}.yaml`);
    fs.writeFileSync(file, stringify(makeGateway(n), { lineWidth: 0, aliasDuplicateObjects: false }));
    files.set(n, file);
  }

  // BENCH_WRITE_ONLY=DIR: write the gateway files there and stop (to profile one by hand).
  if (process.env.BENCH_WRITE_ONLY) {
    for (const [n, f] of files) fs.copyFileSync(f, path.join(process.env.BENCH_WRITE_ONLY, `gateway-${n}.yaml`));
    console.log(`wrote ${[...files.keys()].join(', ')}-route gateways to ${process.env.BENCH_WRITE_ONLY}`);
    return;
  }

  // Validate the smallest file first: a broken generator should fail loudly, not be timed.
  const first = files.get(ordered[0]);
  const v = await gen(['validate', first]);
  if (v.code !== 0) fail(`gen validate ${path.basename(first)}`, v);
  process.stderr.write(`${v.stdout.trim().replaceAll(TMP, '$TMP')}\n`);

  // Rounds: every round runs the baseline (`gen --help`: Node start-up plus loading the
  // generator, no gateway file) and then every size once. Interleaving spreads any drift in the
  // machine's load over all sizes alike instead of over one. The first WARMUPS rounds are not counted.
  const runs = new Map([[0, []], ...ordered.map((n) => [n, []])]);
  const outBytes = new Map();
  for (let round = 0; round < WARMUPS + RUNS; round++) {
    const label = round < WARMUPS ? 'warm-up' : `run ${round - WARMUPS + 1}/${RUNS}`;
    for (const n of [0, ...ordered]) {
      const out = path.join(TMP, `out-${n}-${round}`);
      let r;
      try {
        r = await gen(n === 0 ? ['--help'] : ['build', files.get(n), '--out', out]);
      } catch (e) {
        console.error(`\n${n ? `${fmt(n)} routes` : 'gen --help'}: ${e.message}`);
        process.exit(1);
      }
      if (r.code !== 0) fail(n ? `gen build (${fmt(n)} routes)` : 'gen --help', r);
      if (n && !outBytes.has(n)) {
        outBytes.set(n, dirBytes(out));
        process.stderr.write(`  ${r.stdout.trim().replaceAll(TMP, '$TMP')}\n`);
      }
      fs.rmSync(out, { recursive: true, force: true });
      if (round >= WARMUPS) runs.get(n).push(r);
      process.stderr.write(
        `  ${label}, ${n ? `${fmt(n)} routes` : 'baseline'}: ${fmt(r.ms)} ms (CPU ${fmt(r.cpuMs)} ms), ${fmt(r.rssKiB / 1024, 1)} MiB\n`,
      );
    }
  }

  const stats = (list) => ({
    med: median(list.map((r) => r.ms)),
    min: Math.min(...list.map((r) => r.ms)),
    max: Math.max(...list.map((r) => r.ms)),
    rssMiB: Math.max(...list.map((r) => r.rssKiB)) / 1024,
    cpu: median(list.map((r) => r.cpuMs)),
  });
  const base = stats(runs.get(0));
  const rows = ordered.map((n) => ({
    n,
    fileKiB: fs.statSync(files.get(n)).size / 1024,
    outKiB: outBytes.get(n) / 1024,
    ...stats(runs.get(n)),
  }));

  console.log('');
  console.log('| routes | file KiB | output KiB | median ms | max ms | peak RSS MiB | ms per 1k routes |');
  console.log('|-------:|---------:|-----------:|----------:|-------:|-------------:|-----------------:|');
  for (const r of rows) {
    console.log(
      `| ${fmt(r.n)} | ${fmt(r.fileKiB)} | ${fmt(r.outKiB)} | ${fmt(r.med)} | ${fmt(r.max)} | ${fmt(r.rssMiB, 1)} | ${fmt(r.med / (r.n / 1000))} |`,
    );
  }
  console.log('');
  console.log(
    `Baseline \`gen --help\` (Node start-up + loading the generator): median ${fmt(base.med)} ms wall, ${fmt(base.cpu)} ms CPU, peak RSS ${fmt(base.rssMiB, 1)} MiB.`,
  );
  console.log(`CPU time (user + system, median): ${rows.map((r) => `${fmt(r.n)}: ${fmt(r.cpu)} ms`).join('; ')}.`);

  // Linearity. Per-1k figures mislead both ways: fixed costs paid on the first route (lazy
  // initialisation) inflate small sizes, and on a busy machine wall times swing by half. So fit
  // the median CPU times (which other work hardly moves) with t = a + b·n + c·n² and judge the
  // share of the n² term at the largest size: up to 10% linear, up to 25% slightly super-linear.
  const perK = rows.map((r) => ({ n: r.n, ms: (r.cpu - base.cpu) / (r.n / 1000) }));
  console.log(`CPU above start-up per 1k routes: ${perK.map((p) => `${fmt(p.n)}: ${fmt(p.ms)} ms`).join('; ')}.`);
  const fit = rows.length >= 3 ? fitQuadratic(rows.map((r) => [r.n / 1000, r.cpu])) : undefined;
  const big = rows.at(-1);
  const share = fit ? Math.max(0, (fit.c * (big.n / 1000) ** 2) / big.cpu) : undefined;
  if (fit) {
    console.log(
      `CPU fit (n in thousands of routes): ${fmt(fit.a)} ms + ${fmt(fit.b)} ms·n ${fit.c < 0 ? '−' : '+'} ${fmt(Math.abs(fit.c), 1)} ms·n²; the n² term is ${fmt(100 * share)}% of the CPU time at ${fmt(big.n)} routes.`,
    );
  }
  const linearity =
    share === undefined
      ? undefined
      : share <= 0.1
        ? 'linear'
        : share <= 0.25
          ? 'slightly super-linear'
          : 'super-linear';
  const linText =
    linearity === undefined
      ? 'linearity not judged (needs three sizes)'
      : `${linearity} (n² term ${fmt(100 * share)}% of the CPU time at ${fmt(big.n)} routes)`;
  const at = rows.find((r) => r.n === TARGET_ROUTES);
  const verdict = at
    ? `${at.med < TARGET_MS && linearity !== 'super-linear' ? 'PASS' : 'FAIL'}: 10,000 routes in ${fmt(at.med)} ms median (max ${fmt(at.max)} ms) against < ${fmt(TARGET_MS)} ms including Node start-up; growth ${linText}.`
    : `NOT JUDGED: 10,000 routes were not measured (sizes: ${ordered.join(', ')}); growth ${linText}.`;
  // The target was set when gen build wrote envoy/, ratelimit/ and ext-authz/ only (`outputs: []`
  // today); the deployment outputs came later. Say which set was measured.
  const scope = !OUTPUTS
    ? 'every output (no outputs: field)'
    : OUTPUTS.length === 0
      ? 'outputs: [] (envoy/, ratelimit/, ext-authz/: the outputs the target was set for)'
      : `outputs: [${OUTPUTS.join(', ')}]`;
  console.log(`Verdict (${scope}) — ${verdict}`);
  console.log(`(load average at the end: ${load()}; ${os.cpus().length} CPUs)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
