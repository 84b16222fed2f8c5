// The platform working as one, request by request: the generated envoy.yaml played by the Envoy
// simulator, calling the real ext-authz and ratelimit-service processes (started with the
// configs gen build wrote for examples/gateway.yaml) on a real redis-server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { exampleKeys } from '../fixtures/example-keys.js';
import {
  type RedisServer,
  redisAvailable,
  redisCommand,
  redisSkipReason,
  startRedis,
} from '../harness/redis-server.js';
import { compileFile } from '../support/compile-file.js';
import { type ServiceProcess, startService } from '../support/service-process.js';
import { EnvoySimulator, type SimRequest } from './envoy-sim/index.js';

const providerKey = 'sk-e2e-provider-key-0123456789';
let dir: string;
let redis: RedisServer;
let rls: ServiceProcess;
let authz: ServiceProcess;
let sim: EnvoySimulator;
let ipCounter = 1;
/** A fresh public client address per scenario, so per-IP limits do not leak between tests. */
const nextIp = () => `203.0.113.${ipCounter++}`;

/**
 * Quotas count in fixed windows aligned on the epoch (as envoyproxy/ratelimit's): a test whose
 * requests must land in one minute's window waits for the next one when under 5 s of it remain.
 */
async function inOneMinuteWindow(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const chat = (
  key: string,
  model: string,
  content = 'Summarise the Q3 plan.',
  maxTokens = 50,
  ip = nextIp(),
): SimRequest => ({
  method: 'POST',
  path: '/v1/chat/completions',
  headers: { ...bearer(key), 'x-forwarded-for': ip },
  body: { model, messages: [{ role: 'user', content }], max_tokens: maxTokens },
});

describe.skipIf(!redisAvailable())(
  `scenarios of examples/gateway.yaml${redisAvailable() ? '' : ` (skipped: ${redisSkipReason()})`}`,
  () => {
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigw-e2e-'));
      const files = compileFile('examples/gateway.yaml').files;
      // The provider key: a file, as the mounted Secret would be.
      fs.writeFileSync(path.join(dir, 'openai-key'), `${providerKey}\n`);
      const policy = parse(files.get('ext-authz/policy.yaml')!);
      policy.backends.find((b: { name: string }) => b.name === 'openai').credential.file = path.join(dir, 'openai-key');
      fs.writeFileSync(path.join(dir, 'policy.yaml'), stringify(policy));
      fs.writeFileSync(path.join(dir, 'ratelimit.yaml'), files.get('ratelimit/config.yaml')!);
      redis = await startRedis();
      rls = await startService('ratelimit-service', [
        '--config',
        path.join(dir, 'ratelimit.yaml'),
        '--redis',
        redis.url,
        '--redis-timeout-ms',
        '50',
      ]);
      authz = await startService('ext-authz', [
        '--config',
        path.join(dir, 'policy.yaml'),
        '--ratelimit',
        `127.0.0.1:${rls.grpcPort}`,
      ]);
      sim = new EnvoySimulator(parse(files.get('envoy/envoy.yaml')!), {
        authz: { host: '127.0.0.1', port: authz.grpcPort },
        ratelimit: { host: '127.0.0.1', port: rls.grpcPort },
        pick: () => 0.5,
      });
    }, 90_000);

    afterAll(async () => {
      sim?.close();
      await authz?.stop();
      await rls?.stop();
      await redis?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('the /execute agent gets 429 on its 11th request in a minute from one IP', async () => {
      await inOneMinuteWindow();
      const ip = nextIp();
      const statuses: number[] = [];
      for (let i = 0; i < 11; i++) {
        const r = await sim.request({
          method: 'POST',
          path: '/execute',
          headers: { 'x-api-key': exampleKeys['agents-service'], 'x-forwarded-for': ip },
          body: { agent_type: 'coder', task: 'x' },
        });
        statuses.push(r.status);
        if (i === 0) expect(r.route).toBe('execute');
        if (i === 10) {
          expect(r.responseHeaders['x-ratelimit-limit']).toMatch(/^10(, 10;w=60)?/);
          expect(r.responseHeaders['x-ratelimit-remaining']).toBe('0');
        }
      }
      expect(statuses).toEqual([...Array(10).fill(200), 429]);
    });

    it('HR gets 429 with X-RateLimit-* once its 2,000 requests of the day are used', async () => {
      const day = Math.floor(Date.now() / 1000 / 86_400) * 86_400;
      // The same key envoyproxy/ratelimit would use: domain_limit_<name>_tenant_hr_<day start>.
      await redisCommand(redis.port, 'SET', `ai-gateway_limit_department-daily_tenant_hr_${day}`, 1999);
      const last = await sim.request(chat(exampleKeys['hr-assistant'], 'gpt-4o-mini'));
      expect(last.status).toBe(200);
      const over = await sim.request(chat(exampleKeys['hr-assistant'], 'gpt-4o-mini'));
      expect(over.status).toBe(429);
      expect(over.responseHeaders['x-ratelimit-limit']).toMatch(/^2000/);
      expect(over.responseHeaders['x-ratelimit-remaining']).toBe('0');
      // customer service has its own, larger quota
      expect((await sim.request(chat(exampleKeys['support-bot'], 'gpt-4o-mini'))).status).toBe(200);
    });

    it('a request with personal data lands on the in-house model, without any provider key', async () => {
      const r = await sim.request(
        chat(exampleKeys['support-bot'], 'gpt-4o', 'Please e-mail jane.doe@example.com the contract.'),
      );
      expect(r.status).toBe(200);
      expect(r.route).toBe('chat-personal-data');
      expect(r.backendCluster).toBe('backend_vllm');
      expect(JSON.stringify(r.upstreamHeaders)).not.toContain(providerKey);
      expect(r.upstreamHeaders?.authorization).toBeUndefined();
    });

    it('a model the client may not use is 403', async () => {
      const r = await sim.request(chat(exampleKeys['hr-assistant'], 'gpt-4o'));
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body!).error.message).toBe('model "gpt-4o" is not allowed for client "hr-assistant"');
    });

    it('a valid key reaches the provider route with the provider’s key injected and the client’s removed', async () => {
      const r = await sim.request(chat(exampleKeys['support-bot'], 'gpt-4o'));
      expect(r.status).toBe(200);
      expect(r.route).toBe('chat-openai');
      expect(r.cluster).toBe('failover_openai_vllm-small');
      expect(r.backendCluster).toBe('backend_openai');
      const up = r.upstreamHeaders!;
      expect(up.authorization).toBe(`Bearer ${providerKey}`);
      expect(JSON.stringify(up)).not.toContain(exampleKeys['support-bot']);
      expect(Object.keys(up).filter((h) => h.startsWith('x-aigw-credential'))).toEqual([]);
      expect(up['x-aigw-client']).toBe('support-bot');
      expect(up['x-aigw-tenant']).toBe('customer-service');
      expect(up[':authority']).toBe('api.openai.com');
    });

    it('charges LLM tokens to the tenant’s budget: 429 once 200,000 tokens a minute are spent', async () => {
      // ext-authz estimates ~150,000 tokens (max_tokens) and charges them before the request.
      await inOneMinuteWindow();
      const first = await sim.request(chat(exampleKeys['support-bot'], 'llama-3.1-70b', 'x', 150_000));
      expect(first.status).toBe(200);
      const second = await sim.request(chat(exampleKeys['support-bot'], 'llama-3.1-70b', 'x', 150_000));
      expect(second.status).toBe(429);
      expect(JSON.parse(second.body!).error.message).toMatch(
        /token quota exceeded \(limit=tenant-tokens-per-minute, tenant=customer-service\)/,
      );
      expect(second.responseHeaders['retry-after']).toMatch(/^\d+$/);
    });

    it('keeps limiting from memory while Redis is down (when_down: local), and uses Redis again when it is back', async () => {
      await inOneMinuteWindow();
      await redis.kill();
      try {
        const ip = nextIp();
        const statuses: number[] = [];
        for (let i = 0; i < 11; i++) {
          const r = await sim.request({
            method: 'POST',
            path: '/execute',
            headers: { 'x-api-key': exampleKeys['agents-service'], 'x-forwarded-for': ip },
            body: { agent_type: 'coder' },
          });
          statuses.push(r.status);
        }
        expect(statuses).toEqual([...Array(10).fill(200), 429]);
        const metrics = await (await fetch(`http://127.0.0.1:${rls.httpPort}/metrics`)).text();
        expect(metrics).toMatch(/ratelimit_failure_mode_total\{domain="ai-gateway",mode="local"\} [1-9]/);
      } finally {
        await redis.restart();
      }
      const end = Date.now() + 10_000;
      let before = -1;
      for (;;) {
        const r = await sim.request({
          method: 'POST',
          path: '/execute',
          headers: { 'x-api-key': exampleKeys['agents-service'], 'x-forwarded-for': nextIp() },
          body: { agent_type: 'coder' },
        });
        expect(r.status).toBe(200);
        const m = await (await fetch(`http://127.0.0.1:${rls.httpPort}/metrics`)).text();
        const local = Number(
          /ratelimit_failure_mode_total\{domain="ai-gateway",mode="local"\} (\d+)/.exec(m)?.[1] ?? 0,
        );
        if (local === before || Date.now() > end) break;
        before = local;
        await new Promise((res) => setTimeout(res, 300));
      }
      expect(Date.now()).toBeLessThan(end);
    });
  },
);
