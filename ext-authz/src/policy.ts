// policy.yaml, as `gen build` writes it (generator/src/emit/authz/policy.ts): checked on load, so a
// bad file is rejected whole and the last good policy stays in use.
import fs from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import type { JwtProviderConfig } from './identity/jwt-types.js';

export interface RouteAuth {
  anonymous?: boolean;
  api_key?: boolean;
  jwt?: string[];
  clients?: string[];
  tenants?: string[];
  scopes?: string[];
}

export interface TokenLimit {
  limit: string;
  descriptor: { key: string; value?: string; from?: 'client' | 'tenant' | 'model' | 'ip' }[];
}

export interface RoutePolicy {
  route: string;
  auth: RouteAuth;
  models: string[];
  model_field?: string;
  inspect_body: boolean;
  personal_data: 'allow' | 'deny';
  backends: string[];
  token_limits: TokenLimit[];
}

export interface DispatchPolicy {
  dispatch: {
    fields: { field: string; header: string }[];
    personal_data: boolean;
    routes: { route: string; when: { body?: Record<string, string[]>; personal_data?: boolean } }[];
  };
}

export interface BackendCredential {
  name: string;
  kind: string;
  credential: { file?: string; env?: string; header: string; prefix: string };
  forward_header: string;
}

export interface Policy {
  version: 1;
  domain: string;
  headers: {
    identity: { client: string; tenant: string; model: string; route: string };
    dispatch: string;
    personal_data: string;
    estimated_tokens: string;
    reserved: string[];
    credentials: string[];
  };
  clients: { name: string; tenant: string; models: string[]; keys: { sha256: string; expires?: string }[] }[];
  jwt_providers: JwtProviderConfig[];
  backends: BackendCredential[];
  personal_data: { detect: ('email' | 'phone' | 'card')[]; patterns: { name: string; regex: string }[] };
  /** What to do when the rate-limit service cannot be asked about token quotas. */
  token_quota?: { on_error: 'deny' | 'allow' };
  policies: Record<string, RoutePolicy | DispatchPolicy>;
}

const str = { type: 'string' };
const strs = { type: 'array', items: str };
const schema = {
  type: 'object',
  required: ['version', 'domain', 'headers', 'clients', 'jwt_providers', 'backends', 'personal_data', 'policies'],
  properties: {
    version: { const: 1 },
    domain: str,
    headers: {
      type: 'object',
      required: ['identity', 'dispatch', 'personal_data', 'estimated_tokens', 'reserved', 'credentials'],
      properties: {
        identity: { type: 'object', required: ['client', 'tenant', 'model', 'route'], additionalProperties: str },
        reserved: strs,
        credentials: strs,
      },
    },
    clients: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'tenant', 'models', 'keys'],
        properties: {
          keys: {
            type: 'array',
            items: {
              type: 'object',
              required: ['sha256'],
              properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
            },
          },
        },
      },
    },
    jwt_providers: {
      type: 'array',
      items: { type: 'object', required: ['name', 'issuer', 'audiences', 'algorithms', 'jwks', 'claims'] },
    },
    backends: { type: 'array', items: { type: 'object', required: ['name', 'credential', 'forward_header'] } },
    policies: {
      type: 'object',
      additionalProperties: {
        anyOf: [
          { type: 'object', required: ['dispatch'] },
          {
            type: 'object',
            required: ['route', 'auth', 'models', 'inspect_body', 'personal_data', 'backends', 'token_limits'],
          },
        ],
      },
    },
  },
};
const validate = new Ajv({ allErrors: false, strict: false }).compile(schema);

export class PolicyError extends Error {}

export function parsePolicy(text: string, file: string): Policy {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new PolicyError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!validate(doc)) {
    const e = validate.errors![0];
    throw new PolicyError(`${file}: ${e.instancePath || '/'} ${e.message}`);
  }
  const policy = doc as unknown as Policy;
  for (const [name, p] of Object.entries(policy.policies)) {
    if ('dispatch' in p) {
      for (const m of p.dispatch.routes) {
        const target = Object.hasOwn(policy.policies, m.route) ? policy.policies[m.route] : undefined;
        if (!target || 'dispatch' in target)
          throw new PolicyError(`${file}: policy ${name} dispatches to unknown route policy ${m.route}`);
      }
    }
  }
  return policy;
}

export function loadPolicy(file: string): Policy {
  return parsePolicy(fs.readFileSync(file, 'utf8'), file);
}
