// Security of the real ext-authz process over real gRPC (built dist/, `npm run build` first):
// garbage on the wire gives a gRPC error for that call only, the process keeps serving, and its
// log lines never carry a key or a token it was shown.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { type CryptoKey, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  Authorization,
  type CheckRequest,
  type CheckResponse,
  CheckResponseSchema,
} from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import { grpcServiceDefinition } from '../../common/service-runtime/index.js';
import { exampleKeys } from '../../test/fixtures/example-keys.js';
import { compileFile } from '../../test/support/compile-file.js';
import { type EnvoyRequest, envoyCheckRequest } from '../../test/support/envoy-check.js';
import { type ServiceProcess, startService } from '../../test/support/service-process.js';

const ISS = 'https://login.example.internal/realms/staff';
const KID = 'process-test-key';
const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';
/** What a broken request may produce: a gRPC error for that call, nothing else. */
const WIRE_ERRORS = [grpc.status.INTERNAL, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED];

let dir: string;
let proc: ServiceProcess;
let typed: grpc.Client;
let raw: grpc.Client;
let signingKey: CryptoKey;
/** Every key and token sent to the process. */
const sent = new Set<string>(Object.values(exampleKeys));

const bytes = (b: Buffer) => b;
const rawDefinition: grpc.ServiceDefinition = {
  Check: {
    path: CHECK_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
};

type Unary<Req, Res> = (
  req: Req,
  opts: grpc.CallOptions,
  cb: (e: grpc.ServiceError | null, r: Res) => void,
) => grpc.ClientUnaryCall;

function call<Req, Res>(client: grpc.Client, req: Req): Promise<{ error?: grpc.ServiceError; response?: Res }> {
  const check = (client as unknown as { Check: Unary<Req, Res> }).Check.bind(client);
  return new Promise((resolve) => {
    check(req, { deadline: Date.now() + 10_000 }, (error, response) => resolve(error ? { error } : { response }));
  });
}

async function checkOk(r: EnvoyRequest): Promise<CheckResponse> {
  const { error, response } = await call<CheckRequest, CheckResponse>(typed, envoyCheckRequest(r));
  expect(error).toBeUndefined();
  return response!;
}

/** The process is alive and still decides: the anonymous policy answers OK. */
async function stillServing(): Promise<void> {
  expect(proc.child.exitCode).toBeNull();
  expect(proc.child.signalCode).toBeNull();
  const res = await checkOk({ method: 'GET', path: '/v1/models', policy: 'models' });
  expect(res.status?.code).toBe(0);
  expect(res.httpResponse.case).toBe('okResponse');
}

async function jwt(over: JWTPayload = {}): Promise<string> {
  const t = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({
    iss: ISS,
    aud: 'ai-gateway',
    iat: t,
    exp: t + 600,
    azp: 'staff-portal',
    department: 'finance',
    scope: 'chat',
    ...over,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: KID })
    .sign(signingKey);
  sent.add(token);
  return token;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authz-security-proc-'));
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  signingKey = privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
  fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  fs.writeFileSync(path.join(dir, 'openai-key'), 'sk-process-provider-key\n');
  sent.add('sk-process-provider-key');

  const policy = parse(compileFile('examples/gateway.yaml').files.get('ext-authz/policy.yaml')!);
  const portal = policy.jwt_providers.find((p: { name: string }) => p.name === 'portal');
  portal.jwks = { file: path.join(dir, 'jwks.json'), cache_seconds: 600 };
  policy.backends.find((b: { name: string }) => b.name === 'openai').credential = {
    file: path.join(dir, 'openai-key'),
    header: 'authorization',
    prefix: 'Bearer ',
  };
  const policyFile = path.join(dir, 'policy.yaml');
  fs.writeFileSync(policyFile, stringify(policy));

  proc = await startService('ext-authz', ['--config', policyFile]);
  const target = `127.0.0.1:${proc.grpcPort}`;
  const Typed = grpc.makeGenericClientConstructor(grpcServiceDefinition(Authorization), 'Authorization');
  const Raw = grpc.makeGenericClientConstructor(rawDefinition, 'RawAuthorization');
  typed = new Typed(target, grpc.credentials.createInsecure());
  raw = new Raw(target, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 16 * 1024 * 1024 });
}, 60_000);

afterAll(async () => {
  typed?.close();
  raw?.close();
  await proc?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('ext-authz process: garbage on the wire', () => {
  it('answers malformed protobuf with a gRPC error and keeps serving', async () => {
    const malformed = [
      Buffer.alloc(16, 0xff), // a varint tag that never ends
      Buffer.from([0x0f]), // field 1, wire type 7 (does not exist)
      Buffer.from([0x0a, 0xe8, 0x07, 0x01, 0x02]), // field 1 claims 1000 bytes, has 2
      Buffer.from([0x0a, 0x05, 0x0a, 0x09, 0x00, 0x00, 0x00]), // attributes: a nested field overruns it
      Buffer.from([0x0a, 0x03, 0x22, 0x0a, 0xff]), // attributes.request: a truncated length
      Buffer.from([0x0b, 0x0a, 0x00]), // a group start that is never closed
    ];
    for (const b of malformed) {
      const { error, response } = await call<Buffer, Buffer>(raw, b);
      expect(response, b.toString('hex')).toBeUndefined();
      expect(WIRE_ERRORS, `${b.toString('hex')}: ${error?.code} ${error?.details}`).toContain(error?.code);
      await stillServing();
    }
  });

  it('never allows random bytes: a gRPC error, or a denial if they happen to parse', async () => {
    let errors = 0;
    for (let i = 0; i < 40; i++) {
      const b = randomBytes(1 + Math.floor(Math.random() * 2048));
      const { error, response } = await call<Buffer, Buffer>(raw, b);
      if (error) {
        errors++;
        expect(WIRE_ERRORS, `${error.code} ${error.details}`).toContain(error.code);
      } else {
        const res = fromBinary(CheckResponseSchema, response!);
        expect(res.status?.code, b.toString('hex')).not.toBe(0);
        expect(res.httpResponse.case).toBe('deniedResponse');
      }
    }
    expect(errors).toBeGreaterThan(0);
    await stillServing();
  });

  it('treats an empty message as a CheckRequest naming no policy: 403, not an allow', async () => {
    // Zero bytes are a valid protobuf encoding (every field default), so this is a denial, not an RPC error.
    const { error, response } = await call<Buffer, Buffer>(raw, Buffer.alloc(0));
    expect(error).toBeUndefined();
    const res = fromBinary(CheckResponseSchema, response!);
    expect(res.status?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(res.httpResponse.case).toBe('deniedResponse');
    expect((res.httpResponse.value as { status?: { code: number } }).status?.code).toBe(403);
    expect(res.status?.message).toBe('the route names no policy');
    await stillServing();
  });

  it('rejects a 4 MiB garbage message and keeps serving', async () => {
    for (const b of [randomBytes(4 * 1024 * 1024), Buffer.alloc(4 * 1024 * 1024, 0xff)]) {
      const { error, response } = await call<Buffer, Buffer>(raw, b);
      expect(response).toBeUndefined();
      expect(WIRE_ERRORS, `${error?.code} ${error?.details}`).toContain(error?.code);
      await stillServing();
    }
    // A valid CheckRequest of the same size is refused the same way, not parsed.
    const big = toBinaryRequest({
      path: '/v1/chat/completions',
      policy: 'dispatch/chat-personal-data',
      headers: { 'x-api-key': exampleKeys['support-bot'] },
      body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(4 * 1024 * 1024) }] },
    });
    const { error } = await call<Buffer, Buffer>(raw, big);
    expect(error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    await stillServing();
  });
});

function toBinaryRequest(r: EnvoyRequest): Buffer {
  const def = grpcServiceDefinition(Authorization).Check;
  return def.requestSerialize(envoyCheckRequest(r)) as Buffer;
}

describe('ext-authz process: logs', () => {
  it('never writes a key or a token it was shown', async () => {
    const support = exampleKeys['support-bot'];
    const chat = (headers: Record<string, string>, model = 'gpt-4o'): EnvoyRequest => ({
      path: '/v1/chat/completions',
      policy: 'dispatch/chat-personal-data',
      headers,
      body: { model, messages: [{ role: 'user', content: 'hi' }] },
    });
    const t = Math.floor(Date.now() / 1000);
    const good = await jwt();
    const [h, p, s] = (await jwt({ azp: 'someone-else' })).split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ iss: ISS, azp: 'admin' })).toString('base64url')}.${s}`;
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    const unknownKey = `aigw_${randomBytes(24).toString('base64url')}`;
    sent.add(forged).add(none).add(unknownKey);

    const requests: [EnvoyRequest, number][] = [
      [chat({ authorization: `Bearer ${support}` }), 0],
      [chat({ 'x-api-key': exampleKeys['hr-assistant'] }), 7],
      [chat({ 'api-key': unknownKey }), 16],
      [chat({ 'x-api-key': `${support},${exampleKeys['agents-service']}` }), 16],
      [chat({ authorization: `Bearer ${good}` }), 0],
      [chat({ authorization: `Bearer ${await jwt({ iat: t - 7200, exp: t - 3600 })}` }), 16],
      [chat({ authorization: `Bearer ${forged}` }), 16],
      [chat({ authorization: `Bearer ${none}` }), 16],
      [chat({ authorization: `Basic ${Buffer.from(`u:${support}`).toString('base64')}` }), 16],
      [
        {
          path: '/execute',
          policy: 'dispatch/execute-research',
          headers: { 'x-api-key': good },
          body: { agent_type: 'research' },
        },
        16,
      ],
      [
        {
          path: '/execute',
          policy: 'dispatch/execute-research',
          headers: { 'x-api-key': exampleKeys['agents-service'] },
          body: { agent_type: 'research' },
        },
        0,
      ],
      [{ method: 'GET', path: `/v1/models?api_key=${support}&access_token=${good}`, policy: 'models' }, 0],
    ];
    // Audit lines are written in batches (up to 20 ms late): count this test's own, from a point
    // where the earlier tests' lines are all out.
    const logged = () => proc.output().split('"msg":"decision"').length - 1;
    await new Promise((r) => setTimeout(r, 100));
    const before = logged();
    for (const [r, code] of requests) {
      const res = await checkOk(r);
      expect(res.status?.code, JSON.stringify(r.headers)).toBe(code);
    }
    await stillServing();

    // Let the process flush its stdout.
    const deadline = Date.now() + 5000;
    // + 1: stillServing()'s own check, the last line: once it is out, every line above is.
    while (logged() < before + requests.length + 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(logged()).toBe(before + requests.length + 1);

    const out = proc.output();
    const lines = out.split('\n').filter((l) => l.trim());
    const records = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const decisions = records.filter((l) => l.msg === 'decision');
    expect(decisions.length).toBeGreaterThanOrEqual(requests.length);
    // The lines are the decisions on what was sent: the guard below looks at the right output.
    expect(decisions.some((d) => d.decision === 'deny' && d.status === 401)).toBe(true);
    expect(decisions.some((d) => d.client === 'staff-portal' && d.decision === 'allow')).toBe(true);
    expect(decisions.some((d) => d.client === 'support-bot' && d.model === 'gpt-4o')).toBe(true);
    expect(decisions.some((d) => d.path === '/v1/models' && d.policy === 'models')).toBe(true);

    const secrets = [...sent].flatMap((x) => [x, ...x.split('.')]).filter((x) => x.length >= 12);
    for (const secret of secrets) {
      expect(out.includes(secret), `the log contains a credential (${secret.slice(0, 16)}…)`).toBe(false);
    }
  });

  it('still reports healthy at the end', async () => {
    await stillServing();
    const res = await fetch(`http://127.0.0.1:${proc.httpPort}/healthz`);
    expect(res.status).toBe(200);
  });
});
