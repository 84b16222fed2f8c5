// The ext-authz binary as Envoy meets it: a real process, real gRPC, the policy gen build wrote.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { exampleKeys } from '../../test/fixtures/example-keys.js';
import { freePort } from '../../test/harness/redis-server.js';
import { compileFile, repoRoot } from '../../test/support/compile-file.js';
import { envoyCheckRequest } from '../../test/support/envoy-check.js';
import { type AuthzClient, authzClient, ownConnection } from '../../test/support/grpc-clients.js';
import { type ServiceProcess, startService } from '../../test/support/service-process.js';

let dir: string;
let policyFile: string;
let proc: ServiceProcess;
let client: AuthzClient;
let policy: Record<string, unknown>;

const execute = (key: string) =>
  envoyCheckRequest({
    path: '/execute',
    policy: 'dispatch/execute-research',
    headers: { authorization: `Bearer ${key}` },
    body: { agent_type: 'coder' },
  });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authz-proc-'));
  policyFile = path.join(dir, 'policy.yaml');
  policy = parse(compileFile('examples/gateway.yaml').files.get('ext-authz/policy.yaml')!);
  fs.writeFileSync(path.join(dir, 'openai-key'), 'sk-test-provider-key\n');
  (policy.backends as { credential: Record<string, string> }[])[0].credential = {
    file: path.join(dir, 'openai-key'),
    header: 'authorization',
    prefix: 'Bearer ',
  };
  fs.writeFileSync(policyFile, stringify(policy));
  proc = await startService('ext-authz', ['--config', policyFile]);
  client = authzClient(proc.grpcPort);
}, 60_000);

afterAll(async () => {
  client?.close();
  await proc?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('ext-authz process', () => {
  it('allows and denies through CheckResponse, never an RPC error', async () => {
    const allowed = await client.check(execute(exampleKeys['agents-service']));
    expect(allowed.status?.code).toBe(0);
    expect(allowed.httpResponse.case).toBe('okResponse');
    const deniedRes = await client.check(execute('aigw_wrong'));
    expect(deniedRes.status?.code).toBe(16);
    expect(deniedRes.httpResponse.case).toBe('deniedResponse');
  });

  it('injects the provider key read from the mounted file', async () => {
    const res = await client.check(
      envoyCheckRequest({
        path: '/v1/chat/completions',
        policy: 'dispatch/chat-personal-data',
        headers: { 'x-api-key': exampleKeys['support-bot'] },
        body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] },
      }),
    );
    const ok = res.httpResponse.value as { headers: { header?: { key: string; value: string } }[] };
    expect(ok.headers.find((h) => h.header?.key === 'x-aigw-credential-openai')?.header?.value).toBe(
      'Bearer sk-test-provider-key',
    );
  });

  it('counts a check for an unknown policy under route "", not under the name the request gave', async () => {
    const base = `http://127.0.0.1:${proc.httpPort}`;
    const res = await fetch(`${base}/check?policy=made-up-by-the-caller-42`);
    expect(res.status).toBe(403);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).not.toContain('made-up-by-the-caller-42');
    expect(metrics).toMatch(/ext_authz_decisions_total\{route="",decision="deny",status="403"\} \d+/);
  });

  it('serves health, readiness and metrics', async () => {
    const base = `http://127.0.0.1:${proc.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/ext_authz_decisions_total\{route="execute",decision="allow",status="200"\} \d+/);
    expect(metrics).toMatch(/ext_authz_check_duration_seconds_bucket/);
    expect(metrics).toMatch(/^ext_authz_log_lines_dropped_total 0$/m); // its reader (this test) keeps up
  });

  it('writes one JSON audit line per decision, without keys', async () => {
    await proc.linesWith('"msg":"decision"', 3); // written in batches, up to 20 ms late
    const lines = proc
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const decisions = lines.filter((l) => l.msg === 'decision');
    expect(decisions.length).toBeGreaterThanOrEqual(3);
    expect(decisions[0]).toMatchObject({
      request_id: 'req-1',
      client: 'agents-service',
      tenant: 'platform',
      route: 'execute',
      decision: 'allow',
      status: 200,
    });
    expect(typeof decisions[0].latency_ms).toBe('number');
    for (const k of Object.values(exampleKeys)) expect(proc.output()).not.toContain(k);
    expect(proc.output()).not.toContain('sk-test-provider-key');
  });

  it('reloads the policy, keeping the last good one when the new file is bad', async () => {
    fs.writeFileSync(policyFile, 'version: 1\npolicies: [not, a, map]\n');
    await waitFor(async () =>
      (await (await fetch(`http://127.0.0.1:${proc.httpPort}/metrics`)).text()).includes(
        'ext_authz_policy_loads_total{result="error"} 1',
      ),
    );
    expect((await client.check(execute(exampleKeys['agents-service']))).status?.code).toBe(0);
    const next = structuredClone(policy) as { clients: { name: string }[] };
    next.clients = next.clients.filter((c) => c.name !== 'agents-service');
    fs.writeFileSync(policyFile, stringify(next));
    await waitFor(async () => (await client.check(execute(exampleKeys['agents-service']))).status?.code === 16);
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ext-authz --workers 2', () => {
  let wproc: ServiceProcess;
  beforeAll(async () => {
    const file = path.join(dir, 'policy-workers.yaml');
    fs.writeFileSync(file, stringify(policy));
    wproc = await startService('ext-authz', ['--config', file, '--workers', '2']);
  }, 60_000);
  afterAll(async () => {
    await wproc?.stop();
  });

  it('serves Check from two processes and /check from the primary; /metrics sums every process', async () => {
    const key = exampleKeys['agents-service'];
    const clients = Array.from({ length: 6 }, () => authzClient(wproc.grpcPort, ownConnection));
    try {
      const results = await Promise.all(Array.from({ length: 48 }, (_, i) => clients[i % 6].check(execute(key))));
      expect(results.map((r) => r.status?.code)).toEqual(new Array(48).fill(0));
    } finally {
      for (const c of clients) c.close();
    }
    const http = await fetch(`http://127.0.0.1:${wproc.httpPort}/check?policy=execute`, {
      headers: { authorization: `Bearer ${key}`, 'x-original-uri': '/execute' },
    });
    expect(http.status).toBe(200);
    const serving = wproc
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'serving');
    expect(serving.map((l) => l.role).sort()).toEqual(['primary', 'worker', 'worker']);
    const metrics = await (await fetch(`http://127.0.0.1:${wproc.httpPort}/metrics`)).text();
    const count = (transport: string) =>
      Number(
        new RegExp(`^ext_authz_check_duration_seconds_count\\{transport="${transport}"\\} (\\d+)`, 'm').exec(
          metrics,
        )?.[1],
      );
    expect(count('grpc')).toBe(48);
    expect(count('http')).toBe(1);
    expect((await fetch(`http://127.0.0.1:${wproc.httpPort}/readyz`)).status).toBe(200);
  });
});

describe('ext-authz --workers when the workers cannot start', () => {
  it('backs off, then gives up and exits 1 (the gRPC port is taken)', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    const file = path.join(dir, 'policy-giveup.yaml');
    fs.writeFileSync(file, stringify(policy));
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [
        path.join(repoRoot, 'dist/ext-authz/src/main.js'),
        ...['--config', file, '--host', '127.0.0.1', '--workers', '2'],
        ...['--grpc-port', String(port), '--http-port', String(await freePort())],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`still running after 30 s:\n${out}`)), 30_000);
        child.once('exit', (c) => {
          clearTimeout(t);
          resolve(c);
        });
      });
      expect(code).toBe(1);
      const restarts = out.split('\n').filter((l) => l.includes('worker exited; starting another'));
      expect(restarts.length).toBeGreaterThanOrEqual(3);
      expect(restarts.map((l) => JSON.parse(l).restart_in_ms)).toContain(200); // backing off
      expect(out).toContain('giving up');
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      child.kill('SIGKILL');
      blocker.close();
    }
  }, 40_000);
});
