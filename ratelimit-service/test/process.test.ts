// The ratelimit-service binary as Envoy meets it: real processes, real gRPC, a real redis-server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitResponse_Code as Code } from '../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { type RedisServer, redisAvailable, redisSkipReason, startRedis } from '../../test/harness/redis-server.js';
import { type RateLimitClient, rateLimitClient } from '../../test/support/grpc-clients.js';
import { type ServiceProcess, startService } from '../../test/support/service-process.js';

const config = `domain: exact
descriptors:
  - key: algo
    value: fixed
    rate_limit: { unit: hour, requests_per_unit: 50 }
  - key: algo
    value: sliding
    rate_limit: { unit: hour, requests_per_unit: 50, algorithm: sliding_window }
  - key: algo
    value: bucket
    rate_limit: { unit: hour, requests_per_unit: 50, algorithm: token_bucket }
  - key: reload
    rate_limit: { unit: hour, requests_per_unit: 1 }
`;

describe.skipIf(!redisAvailable())(
  `ratelimit-service processes on one Redis${redisAvailable() ? '' : ` (skipped: ${redisSkipReason()})`}`,
  () => {
    let redis: RedisServer;
    let dir: string;
    const procs: ServiceProcess[] = [];
    const clients: RateLimitClient[] = [];

    beforeAll(async () => {
      redis = await startRedis();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rls-proc-'));
      fs.writeFileSync(path.join(dir, 'exact.yaml'), config);
      for (let i = 0; i < 2; i++) {
        const p = await startService('ratelimit-service', ['--config', dir, '--redis', redis.url]);
        procs.push(p);
        clients.push(rateLimitClient(p.grpcPort));
      }
    }, 60_000);

    afterAll(async () => {
      for (const c of clients) c.close();
      await Promise.all(procs.map((p) => p.stop()));
      await redis?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    for (const algo of ['fixed', 'sliding', 'bucket']) {
      it(`allows exactly 50 of 200 concurrent hits over two processes (${algo})`, async () => {
        const results = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            clients[i % 2].shouldRateLimit({
              domain: 'exact',
              descriptors: [{ entries: [{ key: 'algo', value: algo }] }],
            }),
          ),
        );
        expect(results.filter((r) => r.overallCode === Code.OK)).toHaveLength(50);
        expect(results.filter((r) => r.overallCode === Code.OVER_LIMIT)).toHaveLength(150);
      });
    }

    it('answers the gRPC health protocol and serves /healthz, /readyz and /metrics', async () => {
      expect(await clients[0].healthCheck()).toBe('SERVING');
      expect(await clients[0].healthCheck('envoy.service.ratelimit.v3.RateLimitService')).toBe('SERVING');
      const base = `http://127.0.0.1:${procs[0].httpPort}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const texts = await Promise.all(
        procs.map(async (p) => (await fetch(`http://127.0.0.1:${p.httpPort}/metrics`)).text()),
      );
      // Which process counted the 50 hits allowed above depends on which one's pipeline reached
      // Redis first: together they counted exactly 50.
      const counted = (decision: string) =>
        texts
          .map((t) =>
            Number(
              new RegExp(
                `^ratelimit_hits_total\\{domain="exact",descriptor="exact.algo_fixed",decision="${decision}"\\} (\\d+)`,
                'm',
              ).exec(t)?.[1] ?? 0,
            ),
          )
          .reduce((a, b) => a + b, 0);
      expect(counted('within_limit')).toBe(50);
      expect(counted('over_limit')).toBe(150);
      expect(texts[0]).toMatch(/ratelimit_store_duration_seconds_bucket/);
    });

    it('writes structured JSON log lines', () => {
      const lines = procs[0].output().trim().split('\n');
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
      expect(lines.map((l) => JSON.parse(l).msg)).toContain('config loaded');
    });

    it('reloads its config on change and keeps the last good one when a change is bad', async () => {
      const call = () =>
        clients[0].shouldRateLimit({ domain: 'exact', descriptors: [{ entries: [{ key: 'reload', value: 'a' }] }] });
      expect((await call()).statuses[0].currentLimit?.requestsPerUnit).toBe(1);
      fs.writeFileSync(path.join(dir, 'exact.yaml'), `${config}  - key: nonsense\n    ratelimit: {}\n`);
      await waitFor(async () =>
        (await (await fetch(`http://127.0.0.1:${procs[0].httpPort}/metrics`)).text()).includes(
          'ratelimit_config_loads_total{result="error"} 1',
        ),
      );
      expect((await call()).statuses[0].currentLimit?.requestsPerUnit).toBe(1);
      fs.writeFileSync(
        path.join(dir, 'exact.yaml'),
        config.replace('requests_per_unit: 1 }', 'requests_per_unit: 7 }'),
      );
      await waitFor(async () => (await call()).statuses[0].currentLimit?.requestsPerUnit === 7);
    });
  },
);

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
