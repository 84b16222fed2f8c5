// Our gRPC server (and its HTTP/2 layer) driven by HTTP/2 clients other than node's: curl and
// h2load, both on nghttp2 like Envoy's classic codec, each with its own settings, HPACK use and
// flow control. Each skips with a reason where its program is absent (.ci/run installs h2load).
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RateLimitRequestSchema,
  RateLimitResponse_Code,
  RateLimitResponseSchema,
  RateLimitService,
} from '../envoy-api/gen/envoy/service/ratelimit/v3/rls_pb.js';
import { frameMessage } from './grpc-protocol.js';
import { type GrpcServerHandle, startGrpcServer } from './grpc-server.js';
import { grpcServiceDefinition } from './grpc-service.js';
import { HealthState } from './health-state.js';

const run = promisify(execFile);
const PATH = '/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit';
const has = (program: string, args: string[]) => spawnSync(program, args, { stdio: 'ignore' }).status === 0;
const curlHasHttp2 = spawnSync('curl', ['-V'], { encoding: 'utf8' }).stdout?.includes('HTTP2') ?? false;
const hasH2load = has('h2load', ['--version']);

let handle: GrpcServerHandle;
let dir: string;
const seen: string[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpc-clients-'));
  handle = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    services: [
      {
        definition: grpcServiceDefinition(RateLimitService),
        implementation: {
          ShouldRateLimit: (call: { request: { domain: string } }, cb: (e: null, v: unknown) => void) => {
            seen.push(call.request.domain);
            // A promise between request and answer, as ext-authz has.
            void Promise.resolve().then(() =>
              cb(null, {
                overallCode:
                  call.request.domain === 'deny' ? RateLimitResponse_Code.OVER_LIMIT : RateLimitResponse_Code.OK,
              }),
            );
          },
        },
      },
    ],
    health: new HealthState(),
  });
});

afterAll(async () => {
  await handle?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function requestFile(domain: string): string {
  const file = path.join(dir, `${domain}.bin`);
  fs.writeFileSync(file, frameMessage(toBinary(RateLimitRequestSchema, create(RateLimitRequestSchema, { domain }))));
  return file;
}

describe('startGrpcServer with other HTTP/2 clients', () => {
  const curlTitle = `answers curl (h2c prior knowledge): the message, then grpc-status in trailers${curlHasHttp2 ? '' : ' (skipped: no curl with HTTP/2 on this machine)'}`;
  it.skipIf(!curlHasHttp2)(curlTitle, async () => {
    const out = path.join(dir, 'curl.out');
    const headers = path.join(dir, 'curl.headers');
    await run('curl', [
      '--silent',
      '--show-error',
      '--http2-prior-knowledge',
      '--max-time',
      '10',
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      '--data-binary',
      `@${requestFile('deny')}`,
      '--dump-header',
      headers,
      '--output',
      out,
      `http://127.0.0.1:${handle.port}${PATH}`,
    ]);
    const dumped = fs.readFileSync(headers, 'latin1');
    expect(dumped).toMatch(/^HTTP\/2 200/);
    expect(dumped).toMatch(/content-type: application\/grpc/);
    expect(dumped).toMatch(/grpc-status: 0/); // trailers are dumped after the headers
    const body = fs.readFileSync(out);
    expect(body.readUInt32BE(1)).toBe(body.length - 5);
    expect(fromBinary(RateLimitResponseSchema, body.subarray(5)).overallCode).toBe(RateLimitResponse_Code.OVER_LIMIT);
  });

  const h2loadTitle = `serves 20,000 calls from h2load over 4 connections × 16 streams, every one answered 200${hasH2load ? '' : ' (skipped: h2load absent: apt-get install nghttp2-client)'}`;
  it.skipIf(!hasH2load)(h2loadTitle, async () => {
    const before = seen.length;
    const { stdout } = await run(
      'h2load',
      [
        '-n',
        '20000',
        '-c',
        '4',
        '-m',
        '16',
        '-t',
        '1',
        '-d',
        requestFile('h2load'),
        '-H',
        'content-type: application/grpc',
        '-H',
        'te: trailers',
        `http://127.0.0.1:${handle.port}${PATH}`,
      ],
      { timeout: 60_000 },
    );
    expect(stdout).toMatch(/requests: 20000 total, 20000 started, 20000 done, 20000 succeeded, 0 failed, 0 errored/);
    expect(stdout).toMatch(/status codes: 20000 2xx/);
    expect(seen.length - before).toBe(20_000);
    expect(seen.slice(before).every((domain) => domain === 'h2load')).toBe(true);
  });
});
