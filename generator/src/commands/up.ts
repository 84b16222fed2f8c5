// gen up: a local stack from one gateway.yaml. Builds it with the services on 127.0.0.1, starts
// ratelimit-service (in-memory counters) and ext-authz (charging token quotas to it), and Envoy
// when an `envoy` binary is on the PATH; prints where each listens; Ctrl-C stops them all.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXT_AUTHZ_NODE_FLAGS } from '../../../ext-authz/src/node-flags.js';
import { compileGateway } from '../compile.js';
import { loadGatewaySource } from '../config/source.js';
import { writeOutputsAtomically } from '../write.js';

export const upUsage = 'gen up [GATEWAY.yaml] [--base-port 18000] [--out DIR]';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The services' entry points in the same build (dist/): up.js is dist/generator/src/commands/up.js. */
const bin = (rel: string) => path.resolve(here, '../../..', rel);

async function ready(url: string, child: ChildProcess, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && child.exitCode === null) {
    try {
      if ((await fetch(url)).status === 200) return true;
    } catch {}
    await new Promise((r) => setTimeout(r, 150));
  }
  return false;
}

export async function upCommand(args: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { 'base-port': { type: 'string', default: '18000' }, out: { type: 'string' } },
    allowPositionals: true,
  });
  const base = Number(values['base-port']);
  if (!Number.isInteger(base) || base < 1024 || base > 65000 || positionals.length > 1) {
    out(`usage: ${upUsage}`);
    return 2;
  }
  const gateway = positionals[0] ?? 'gateway.yaml';
  const ports = { rlsGrpc: base, rlsHttp: base + 1, authzGrpc: base + 2, authzHttp: base + 3 };
  const result = compileGateway(loadGatewaySource(gateway), {
    serviceAddresses: {
      ratelimit: { host: '127.0.0.1', port: ports.rlsGrpc },
      extAuthz: { host: '127.0.0.1', port: ports.authzGrpc },
    },
  });
  const dir = values.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gen-up-'));
  writeOutputsAtomically(path.join(dir, 'out'), result.files);
  const outDir = path.join(dir, 'out');
  const children: { name: string; child: ChildProcess }[] = [];
  const start = (name: string, cmd: string, argv: string[]) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const prefix = (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line) out(`[${name}] ${line}`);
    };
    child.stdout!.on('data', prefix);
    child.stderr!.on('data', prefix);
    children.push({ name, child });
    return child;
  };
  const stop = async () => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(
      children.map(({ child }) => (child.exitCode === null ? new Promise((r) => child.once('exit', r)) : undefined)),
    );
  };
  const rls = start('ratelimit', process.execPath, [
    bin('ratelimit-service/src/main.js'),
    '--config',
    path.join(outDir, 'ratelimit/config.yaml'),
    '--host',
    '127.0.0.1',
    '--grpc-port',
    String(ports.rlsGrpc),
    '--http-port',
    String(ports.rlsHttp),
  ]);
  const authz = start('ext-authz', process.execPath, [
    ...EXT_AUTHZ_NODE_FLAGS,
    bin('ext-authz/src/main.js'),
    '--config',
    path.join(outDir, 'ext-authz/policy.yaml'),
    '--host',
    '127.0.0.1',
    '--grpc-port',
    String(ports.authzGrpc),
    '--http-port',
    String(ports.authzHttp),
    '--ratelimit',
    `127.0.0.1:${ports.rlsGrpc}`,
  ]);
  const ok =
    (await ready(`http://127.0.0.1:${ports.rlsHttp}/readyz`, rls)) &&
    (await ready(`http://127.0.0.1:${ports.authzHttp}/readyz`, authz));
  if (!ok) {
    out('gen up: a service did not become ready; stopping');
    await stop();
    return 1;
  }
  const hasEnvoy = spawnSync('envoy', ['--version'], { stdio: 'ignore' }).status === 0;
  if (hasEnvoy) start('envoy', 'envoy', ['-c', path.join(outDir, 'envoy/envoy.yaml'), '--log-level', 'warn']);
  out('gen up: ready');
  out(
    `  ratelimit-service  gRPC 127.0.0.1:${ports.rlsGrpc}   http://127.0.0.1:${ports.rlsHttp}/metrics   (in-memory counters)`,
  );
  out(
    `  ext-authz          gRPC 127.0.0.1:${ports.authzGrpc}   http://127.0.0.1:${ports.authzHttp}/check?policy=ROUTE`,
  );
  if (hasEnvoy)
    for (const l of result.model.listeners)
      out(
        `  envoy              http://127.0.0.1:${l.port}/  (admin 127.0.0.1:${result.model.services.envoy.adminPort})`,
      );
  else out('  envoy              not started: no `envoy` binary on the PATH');
  out(`  configs            ${outDir}`);
  out('Ctrl-C stops everything.');
  return new Promise<number>((resolve) => {
    const quit = () => {
      out('gen up: stopping');
      stop().then(() => resolve(0));
    };
    process.once('SIGINT', quit);
    process.once('SIGTERM', quit);
    for (const { name, child } of children) {
      child.once('exit', (code) => {
        if (code !== null && code !== 0) out(`gen up: ${name} exited with ${code}`);
      });
    }
  });
}
