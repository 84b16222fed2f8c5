// gen init: a commented gateway.yaml to start from.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { keyDigest, newApiKey } from '../../../ext-authz/src/identity/api-keys.js';

export const scaffold = (digest: string) => `# gateway.yaml: one front door for your apps' LLM traffic (ai-gateway-kit).
#   gen validate gateway.yaml    check it
#   gen build gateway.yaml       write out/: Envoy, rate-limit service, ext-authz, Kubernetes, Kong
# Reference: docs/gateway-yaml.md
version: 1

gateway:
  name: ai-gateway          # prefix of generated Kubernetes objects
  namespace: ai-gateway

listeners:
  - name: public
    port: 8080
    hosts: ["*"]            # host names served

backends:
  # A provider: its key is read at run time from a Secret, a file or an environment variable,
  # never written anywhere by gen.
  - name: openai
    kind: openai-compatible
    url: https://api.openai.com
    credential:
      secret: { name: openai-api-key, key: api-key }
  # An in-cluster model server.
  # - name: vllm
  #   kind: openai-compatible
  #   url: http://vllm.models.svc.cluster.local:8000
  #   health_check: { path: /health }

# API-key clients: only SHA-256 digests live here. \`gen key create --client my-app\` prints a
# new key once, and the line to paste below.
clients:
  - name: my-app
    tenant: my-team
    keys:
      - sha256: ${digest}  # the key gen init printed once

routes:
  # Matched in order; the first match wins.
  - name: openai
    match:
      path: { prefix: /v1/ }
    backend: openai
    streaming: true         # server-sent events: no whole-request timeout
    auth: { api_key: true } # or: jwt: [provider]; or: auth: anonymous

limits:
  - name: per-client
    per: client             # ip, client, tenant, route, model, or a list
    requests: 60/minute
  # - name: team-tokens
  #   per: tenant
  #   tokens: 100000/minute

services:
  redis:
    url: redis://redis.ai-gateway.svc.cluster.local:6379
    when_down: error        # error | allow | local
`;

export function initCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parseArgs({ args, options: { force: { type: 'boolean' } }, allowPositionals: true });
  const file = positionals[0] ?? 'gateway.yaml';
  if (fs.existsSync(file) && !values.force) {
    out(`gen init: ${file} exists; use --force to overwrite it`);
    return 1;
  }
  const key = newApiKey();
  fs.writeFileSync(file, scaffold(keyDigest(key)));
  out(
    `gen init: wrote ${file}, with a first API key for client "my-app" (shown once, only its digest is in the file):\n\n  ${key}\n`,
  );
  out(`Next: gen validate ${file}, then gen build ${file}`);
  return 0;
}
