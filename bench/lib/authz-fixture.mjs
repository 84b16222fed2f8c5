// What the ext-authz benches check: the policy `gen build examples/gateway.yaml` writes, plus one
// route policy `bench-jwt` (a copy of `execute` that takes JWTs of provider `portal`, any client)
// with the provider's JWKS rewritten to a local file holding a key pair generated here; and
// CheckRequests built as Envoy builds them for POST /execute (route policy `execute` with
// agents-service's demo API key in x-api-key, `bench-jwt` with one RS256 token).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { create, toBinary } from '@bufbuild/protobuf';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import YAML from 'yaml';
import { runToEnd } from './processes.mjs';

export const API_KEY = 'aigw_demo_agents_k8Qm2VZt7RfX4pLw9sNc'; // agents-service, test/fixtures/example-keys.ts
const CLI_REL = 'dist/generator/src/cli.js';
const PB_REL = 'dist/common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
const ISSUER = 'https://login.example.internal/realms/staff';

/**
 * Writes the policy into `tmp` (with `app`'s build, the repository's examples/gateway.yaml from
 * `root`); returns its path, the JWT and the two CheckRequests' bytes.
 */
export async function prepareAuthzFixture({ app, root, tmp }) {
  const out = path.join(tmp, 'gen');
  const r = await runToEnd(
    process.execPath,
    [path.join(app, CLI_REL), 'build', path.join(root, 'examples/gateway.yaml'), '--out', out],
    { cwd: app, timeoutMs: 60_000 },
  );
  if (r.code !== 0) throw new Error(`gen build failed (${r.code}):\n${r.stderr}`);
  const policy = YAML.parse(fs.readFileSync(path.join(out, 'ext-authz/policy.yaml'), 'utf8'));

  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const jwksFile = path.join(tmp, 'jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  const portal = policy.jwt_providers.find((p) => p.name === 'portal');
  portal.jwks = { file: jwksFile };
  policy.policies['bench-jwt'] = {
    ...structuredClone(policy.policies.execute),
    route: 'bench-jwt',
    auth: { ...policy.policies.execute.auth, api_key: false, jwt: ['portal'], clients: [] },
  };
  const file = path.join(tmp, 'policy.yaml');
  fs.writeFileSync(file, YAML.stringify(policy));
  const token = await new SignJWT({ azp: 'web-portal', department: 'hr', scope: 'openid' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
    .setIssuer(ISSUER)
    .setAudience('ai-gateway')
    .setSubject('bench-user')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(privateKey);
  const pb = await import(pathToFileURL(path.join(app, PB_REL)).href);
  return {
    file,
    token,
    requests: {
      apikey: checkRequest(pb, 'execute', { 'x-api-key': API_KEY }),
      jwt: checkRequest(pb, 'bench-jwt', { authorization: `Bearer ${token}` }),
    },
  };
}

/** A CheckRequest as Envoy sends it for POST /execute. */
function checkRequest(pb, policyName, authHeader) {
  const headers = {
    ':authority': 'llm.example.internal',
    ':method': 'POST',
    ':path': '/execute',
    ':scheme': 'http',
    'content-type': 'application/json',
    'user-agent': 'bench/1.0',
    'x-forwarded-proto': 'http',
    'x-request-id': '3f1c8a52-6a0e-4c55-9b3e-0c1f5c2a9d11',
    ...authHeader,
  };
  const socket = (address, port) => ({
    address: { case: 'socketAddress', value: { address, portSpecifier: { case: 'portValue', value: port } } },
  });
  return toBinary(
    pb.CheckRequestSchema,
    create(pb.CheckRequestSchema, {
      attributes: {
        source: { address: socket('10.0.0.7', 51234) },
        destination: { address: socket('10.0.0.2', 8080) },
        request: {
          http: {
            id: '1234567890',
            method: 'POST',
            path: '/execute',
            host: 'llm.example.internal',
            scheme: 'http',
            protocol: 'HTTP/1.1',
            headers,
          },
        },
        contextExtensions: { policy: policyName },
      },
    }),
  );
}
