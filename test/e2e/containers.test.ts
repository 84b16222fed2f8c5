// The same platform with a real Envoy and Redis, in containers (testcontainers). Needs a Docker
// engine, which these machines do not have: skipped here with the reason; it never replaces the
// simulator scenarios, which run everywhere.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGateway } from '../../generator/src/compile.js';
import { parseGatewaySource } from '../../generator/src/config/source.js';
import { exampleKeys } from '../fixtures/example-keys.js';
import { freePort } from '../harness/redis-server.js';
import { type ServiceProcess, startService } from '../support/service-process.js';

const docker = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 }).status === 0;
const reason = 'skipped: no Docker engine answers (`docker info` fails); the simulator scenarios cover this here';

describe.skipIf(!docker)(`real Envoy and Redis containers${docker ? '' : ` (${reason})`}`, () => {
  const stack: { stop(): Promise<unknown> }[] = [];
  let envoyPort: number;
  let seen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    const { GenericContainer, Wait } = await import('testcontainers');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigw-containers-'));
    const backend = http.createServer((req, res) => {
      seen.push(req.headers);
      res.end('{"object":"list","data":[]}');
    });
    const backendPort = await freePort();
    await new Promise<void>((r) => backend.listen(backendPort, '127.0.0.1', r));
    stack.push({ stop: () => new Promise((r) => backend.close(r)) });
    const redis = await new GenericContainer('redis:7.2-alpine')
      .withNetworkMode('host')
      .withCommand(['redis-server', '--port', '6390'])
      .start();
    stack.push(redis);
    envoyPort = await freePort();
    const gateway = fs
      .readFileSync('examples/gateway.yaml', 'utf8')
      .replace('port: 8080', `port: ${envoyPort}`)
      .replace('url: http://vllm.models.svc.cluster.local:8000', `url: http://127.0.0.1:${backendPort}`)
      .replace('hosts: ["llm.example.internal", "llm.example.internal:8080"]', 'hosts: ["*"]');
    const rlsPort = await freePort();
    const authzPort = await freePort();
    const result = compileGateway(parseGatewaySource(gateway, 'gateway.yaml'), {
      serviceAddresses: {
        ratelimit: { host: '127.0.0.1', port: rlsPort },
        extAuthz: { host: '127.0.0.1', port: authzPort },
      },
    });
    for (const [f, c] of result.files) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), c);
    }
    const rls: ServiceProcess = await startService('ratelimit-service', [
      '--config',
      path.join(dir, 'ratelimit/config.yaml'),
      '--redis',
      'redis://127.0.0.1:6390',
    ]);
    stack.push(rls);
    const authz: ServiceProcess = await startService('ext-authz', [
      '--config',
      path.join(dir, 'ext-authz/policy.yaml'),
      '--ratelimit',
      `127.0.0.1:${rls.grpcPort}`,
    ]);
    stack.push(authz);
    // startService picks its own ports: point Envoy's clusters at them.
    const envoyYaml = fs
      .readFileSync(path.join(dir, 'envoy/envoy.yaml'), 'utf8')
      .replace(`port_value: ${rlsPort}`, `port_value: ${rls.grpcPort}`)
      .replace(`port_value: ${authzPort}`, `port_value: ${authz.grpcPort}`);
    fs.writeFileSync(path.join(dir, 'envoy/envoy.yaml'), envoyYaml);
    const envoy = await new GenericContainer('envoyproxy/envoy:v1.31.3')
      .withNetworkMode('host')
      .withCopyFilesToContainer([{ source: path.join(dir, 'envoy/envoy.yaml'), target: '/etc/envoy/envoy.yaml' }])
      .withCommand(['envoy', '-c', '/etc/envoy/envoy.yaml'])
      .withWaitStrategy(Wait.forLogMessage(/starting main dispatch loop/))
      .start();
    stack.push(envoy);
  }, 300_000);

  afterAll(async () => {
    for (const s of stack.reverse()) await s.stop();
  });

  it('routes an anonymous request to the backend, without spoofed identity headers', async () => {
    seen = [];
    const r = await fetch(`http://127.0.0.1:${envoyPort}/v1/models`, { headers: { 'x-aigw-client': 'admin' } });
    expect(r.status).toBe(200);
    expect(seen[0]?.['x-aigw-client']).toBeUndefined();
  });

  it('denies /execute without a key (401) and allows it with one', async () => {
    expect((await fetch(`http://127.0.0.1:${envoyPort}/execute`, { method: 'POST', body: '{}' })).status).toBe(401);
    const ok = await fetch(`http://127.0.0.1:${envoyPort}/v1/models`, {
      headers: { 'x-api-key': exampleKeys['agents-service'] },
    });
    expect(ok.status).toBe(200);
  });
});
