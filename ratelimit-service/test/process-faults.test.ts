// What Envoy sees when things go wrong: Redis dies mid-load, garbage on the wire, bad flags;
// and --workers sharing one port.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitResponse_Code as Code } from '../../common/envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import {
  freePort,
  type RedisServer,
  redisAvailable,
  redisSkipReason,
  startRedis,
} from '../../test/harness/redis-server.js';
import { repoRoot } from '../../test/support/compile-file.js';
import { ownConnection, rateLimitClient } from '../../test/support/grpc-clients.js';
import { type ServiceProcess, startService } from '../../test/support/service-process.js';

const config = `domain: d
descriptors:
  - key: k
    rate_limit: { unit: hour, requests_per_unit: 1000000 }
`;
const call = { domain: 'd', descriptors: [{ entries: [{ key: 'k', value: 'v' }] }] };

describe('ratelimit-service command line', () => {
  it('rejects a bad flag with exit code 2 and a usage text, without a stack trace', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'dist/ratelimit-service/src/main.js'), '--config', 'x.yaml', '--grpc-port', 'abc'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--grpc-port: not a port number: "abc"/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});

describe.skipIf(!redisAvailable())(
  `ratelimit-service under faults${redisAvailable() ? '' : ` (skipped: ${redisSkipReason()})`}`,
  () => {
    let redis: RedisServer;
    let dir: string;
    let proc: ServiceProcess;

    beforeAll(async () => {
      redis = await startRedis();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rls-fault-'));
      fs.writeFileSync(path.join(dir, 'd.yaml'), config);
      proc = await startService('ratelimit-service', [
        '--config',
        dir,
        '--redis',
        redis.url,
        '--redis-timeout-ms',
        '200',
      ]);
    }, 60_000);

    afterAll(async () => {
      await proc?.stop();
      await redis?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('answers UNAVAILABLE within the timeout while Redis is down, and recovers when it is back', async () => {
      const client = rateLimitClient(proc.grpcPort);
      try {
        expect((await client.shouldRateLimit(call)).overallCode).toBe(Code.OK);
        await redis.kill();
        const t0 = Date.now();
        const err = await client.shouldRateLimit(call).then(
          () => undefined,
          (e: grpc.ServiceError) => e,
        );
        expect(err?.code).toBe(grpc.status.UNAVAILABLE);
        expect(Date.now() - t0).toBeLessThan(1500);
        await redis.restart();
        const end = Date.now() + 10_000;
        let ok = false;
        while (!ok && Date.now() < end) {
          ok = await client.shouldRateLimit(call).then(
            (r) => r.overallCode === Code.OK,
            () => false,
          );
          if (!ok) await new Promise((r) => setTimeout(r, 200));
        }
        expect(ok).toBe(true);
      } finally {
        client.close();
      }
    });

    it('answers random bytes with a gRPC error and stays up', async () => {
      const Raw = grpc.makeGenericClientConstructor(
        {
          ShouldRateLimit: {
            path: '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit',
            requestStream: false,
            responseStream: false,
            requestSerialize: (b: Buffer) => b,
            requestDeserialize: (b: Buffer) => b,
            responseSerialize: (b: Buffer) => b,
            responseDeserialize: (b: Buffer) => b,
          },
        },
        'Raw',
      );
      const raw = new Raw(`127.0.0.1:${proc.grpcPort}`, grpc.credentials.createInsecure()) as unknown as {
        ShouldRateLimit(b: Buffer, cb: (e: grpc.ServiceError | null) => void): void;
        close(): void;
      };
      for (const bytes of [
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
        Buffer.from('not a protobuf at all'),
        Buffer.alloc(64 * 1024, 0xaa),
      ]) {
        const e = await new Promise<grpc.ServiceError | null>((resolve) => raw.ShouldRateLimit(bytes, resolve));
        expect(e?.code === grpc.status.INTERNAL || e?.code === grpc.status.INVALID_ARGUMENT).toBe(true);
      }
      raw.close();
      expect(proc.child.exitCode).toBeNull();
      expect((await fetch(`http://127.0.0.1:${proc.httpPort}/healthz`)).status).toBe(200);
    });
  },
);

/** `n` concurrent calls over 8 connections of their own (node:cluster hands each to one worker). */
async function overEightConnections(port: number, n: number) {
  const clients = Array.from({ length: 8 }, () => rateLimitClient(port, ownConnection));
  try {
    return await Promise.all(Array.from({ length: n }, (_, i) => clients[i % 8].shouldRateLimit(call)));
  } finally {
    for (const c of clients) c.close();
  }
}

describe('ratelimit-service --workers', () => {
  let dir: string;
  let proc: ServiceProcess;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rls-workers-'));
    fs.writeFileSync(path.join(dir, 'd.yaml'), config);
    proc = await startService('ratelimit-service', ['--config', dir, '--workers', '2']);
  }, 60_000);
  afterAll(async () => {
    await proc?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves one gRPC port from two worker processes and aggregates their metrics', async () => {
    const results = await overEightConnections(proc.grpcPort, 64);
    expect(results.every((r) => r.overallCode === Code.OK)).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${proc.httpPort}/metrics`)).text();
    const total = [...metrics.matchAll(/^ratelimit_calls_total\{code="OK"\} (\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    expect(total).toBe(64);
  });
});

describe('ratelimit-service --workers with failure_mode local', () => {
  let dir: string;
  let proc: ServiceProcess;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rls-workers-local-'));
    fs.writeFileSync(
      path.join(dir, 'd.yaml'),
      `domain: d
failure_mode: local
descriptors:
  - key: k
    rate_limit: { unit: hour, requests_per_unit: 4 }
`,
    );
    // Redis never answers here: every call is decided from the processes' own counters.
    const closed = await freePort();
    proc = await startService('ratelimit-service', [
      ...['--config', dir, '--workers', '2', '--replicas', '1'],
      ...['--redis', `redis://127.0.0.1:${closed}`, '--redis-timeout-ms', '50'],
    ]);
  }, 60_000);
  afterAll(async () => {
    await proc?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('each process takes its share (1/(replicas × workers)): the two together allow the limit, not twice it', async () => {
    const results = await overEightConnections(proc.grpcPort, 24);
    expect(results.filter((r) => r.overallCode === Code.OK)).toHaveLength(4);
  });
});
