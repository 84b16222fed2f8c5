// A no-op gRPC server, the baseline of the service benches: it answers every unary call of the
// given method paths with a fixed response (default: the empty message) and status OK, without
// decoding the request. What a service measures above this is the cost of its own work (decode,
// logic, store, encode, metrics) and, against the grpc-js stack, of the gRPC server it runs on.
//
// Two stacks (--stack):
//   grpc-js     a minimal @grpc/grpc-js server with the HTTP/2 settings of our services: the
//               reference the service targets were set against (the default);
//   ours        our services' own server (common/service-runtime/grpc-server.ts, loaded from the
//               bench's snapshot of dist/ given with --app): the same stack as the services, so a
//               service's ratio to it is the cost of its own work alone.
//
// As a program (one process, prints `{"listening":PORT}` on stdout once bound):
//   node bench/lib/noop-grpc-server.mjs --method /envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit \
//     [--method /other.Service/Method ...] [--port 0] [--host 127.0.0.1] [--response-hex HEX] \
//     [--stack grpc-js|ours --app DIR]
//
// From a bench (spawns the program above in its own process, tracked by processes.mjs):
//   const noop = await startNoopGrpcServer({ methods: ['/envoy.service.auth.v3.Authorization/Check'] });
//   ... noop.port ...; await noop.stop();
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnTracked, stopProcess, waitUntil } from './processes.mjs';

const SELF = fileURLToPath(import.meta.url);

/** The grpc-js options matching GRPC_SERVER_DEFAULTS of common/service-runtime/grpc-server.ts, so the
 *  grpc-js baseline runs the same HTTP/2 settings as the services. */
export const NOOP_SERVER_OPTIONS = {
  'grpc.max_concurrent_streams': 100_000,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
};

/**
 * Starts the no-op server in a child process. `methods`: full method paths ('/pkg.Service/Method').
 * `response`: bytes of the response message (default empty). `port` 0 (default) lets the OS pick.
 * `nodeArgs`: extra node flags (e.g. ['--cpu-prof']). `stack`: 'grpc-js' (default) or 'ours'
 * (then `app`: the folder holding the dist/ to load it from). Resolves { port, child, stop() }.
 */
export async function startNoopGrpcServer({
  methods,
  host = '127.0.0.1',
  port = 0,
  response,
  nodeArgs = [],
  stack = 'grpc-js',
  app,
  timeoutMs = 15_000,
} = {}) {
  if (!methods?.length) throw new Error('startNoopGrpcServer: give at least one method path');
  const args = [...nodeArgs, SELF, '--host', host, '--port', String(port)];
  for (const m of methods) args.push('--method', m);
  if (response?.length) args.push('--response-hex', Buffer.from(response).toString('hex'));
  if (stack !== 'grpc-js') args.push('--stack', stack, '--app', app);
  let bound;
  const child = spawnTracked(process.execPath, args, {
    name: 'noop-grpc-server',
    cwd: path.dirname(SELF),
    onLine: (line, stream) => {
      if (stream !== 'stdout') return;
      try {
        const m = JSON.parse(line);
        if (typeof m.listening === 'number') bound = m.listening;
      } catch {}
    },
  });
  await waitUntil('the no-op gRPC server to listen', () => bound !== undefined, { child, timeoutMs });
  return { port: bound, child, stop: () => stopProcess(child, { graceMs: 3000 }) };
}

// ---------------------------------------------------------------------------------------------
// The program.
async function serve(argv) {
  const opts = { host: '127.0.0.1', port: 0, methods: [], response: Buffer.alloc(0), stack: 'grpc-js' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--method') opts.methods.push(v);
    else if (a === '--port') opts.port = Number(v);
    else if (a === '--host') opts.host = v;
    else if (a === '--response-hex') opts.response = Buffer.from(v, 'hex');
    else if (a === '--stack') opts.stack = v;
    else if (a === '--app') opts.app = v;
    else {
      console.error(`noop-grpc-server: unknown argument ${a}`);
      process.exit(2);
    }
    i++;
  }
  if (!opts.methods.length || opts.methods.some((m) => !/^\/[^/]+\/[^/]+$/.test(m ?? ''))) {
    console.error('noop-grpc-server: give --method /package.Service/Method (one or more)');
    process.exit(2);
  }
  if (!['grpc-js', 'ours'].includes(opts.stack) || (opts.stack === 'ours' && !opts.app)) {
    console.error('noop-grpc-server: --stack is grpc-js or ours (with --app DIR holding dist/)');
    process.exit(2);
  }
  const identity = (b) => b;
  // One service definition per service name, holding its methods.
  const byService = new Map();
  for (const m of opts.methods) {
    const [, service, method] = m.split('/');
    if (!byService.has(service)) byService.set(service, { definition: {}, implementation: {} });
    const s = byService.get(service);
    s.definition[method] = {
      path: m,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity, // the raw Buffer: never decoded
      responseSerialize: identity,
      responseDeserialize: identity,
      originalName: method,
    };
    s.implementation[method] = (_call, callback) => callback(null, opts.response);
  }
  const listening = (port) => process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
  if (opts.stack === 'ours') return serveOnOurServer(opts, [...byService.values()], listening);
  const grpc = await import('@grpc/grpc-js');
  const server = new grpc.Server(NOOP_SERVER_OPTIONS);
  for (const { definition, implementation } of byService.values()) server.addService(definition, implementation);
  const address = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
  server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      console.error(`noop-grpc-server: cannot listen on ${address}: ${error.message}`);
      process.exit(1);
    }
    listening(port);
  });
  const stop = () => {
    server.forceShutdown();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** The same no-op on common/service-runtime/grpc-server.ts, from the snapshot's dist/. */
async function serveOnOurServer(opts, services, listening) {
  const runtime = (file) => import(pathToFileURL(path.join(opts.app, 'dist/common/service-runtime', file)).href);
  const { startGrpcServer } = await runtime('grpc-server.js');
  const { HealthState } = await runtime('health-state.js');
  let handle;
  try {
    handle = await startGrpcServer({ host: opts.host, port: opts.port, services, health: new HealthState() });
  } catch (e) {
    console.error(`noop-grpc-server: ${e.message}`);
    process.exit(1);
  }
  listening(handle.port);
  const stop = () => handle.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  serve(process.argv.slice(2)).catch((e) => {
    console.error(`noop-grpc-server: ${e.stack ?? e}`);
    process.exit(1);
  });
}
