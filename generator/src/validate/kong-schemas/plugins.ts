// `config` of each Kong plugin the Kong emitter writes (Kong Gateway 3.x, as Kong documents the
// plugins): only the fields we use, with their types and enums. A field not listed is an error;
// a plugin not listed has no schema and is an error too. Secrets may only be vault references.
import type { SchemaObject } from 'ajv';
import { bool, closed, str, strings, vaultReference } from './common.js';

const headerName: SchemaObject = { type: 'string', pattern: '^[A-Za-z0-9_-]+$' };
const positive: SchemaObject = { type: 'number', exclusiveMinimum: 0 };
const rateUnits = ['second', 'minute', 'hour', 'day', 'month', 'year'];

const rateLimiting: SchemaObject = {
  ...closed(
    {
      limit_by: { enum: ['consumer', 'consumer-group', 'credential', 'header', 'ip', 'path', 'service'] },
      ...Object.fromEntries(rateUnits.map((u) => [u, positive])),
      policy: { enum: ['local', 'cluster', 'redis'] },
      redis: closed(
        {
          host: str,
          port: { type: 'integer', minimum: 0, maximum: 65535 },
          database: { type: 'integer', minimum: 0 },
          password: vaultReference,
          ssl: bool,
        },
        ['host'],
      ),
      fault_tolerant: bool,
    },
    ['limit_by', 'policy'],
  ),
  allOf: [
    {
      anyOf: rateUnits.map((u) => ({ required: [u] })),
      'x-message': `needs a rate: one of ${rateUnits.join(', ')}`,
    },
    {
      anyOf: [{ properties: { policy: { not: { const: 'redis' } } } }, { required: ['redis'] }],
      'x-message': 'policy redis needs the redis block',
    },
  ],
};

const aiProxy: SchemaObject = closed(
  {
    route_type: {
      enum: [
        'audio/v1/audio/speech',
        'audio/v1/audio/transcriptions',
        'audio/v1/audio/translations',
        'image/v1/images/edits',
        'image/v1/images/generations',
        'llm/v1/assistants',
        'llm/v1/batches',
        'llm/v1/chat',
        'llm/v1/completions',
        'llm/v1/embeddings',
        'llm/v1/files',
        'llm/v1/responses',
        'preserve',
        'realtime/v1/realtime',
        'video/v1/videos/generations',
      ],
    },
    model: {
      ...closed(
        {
          provider: {
            enum: [
              'anthropic',
              'azure',
              'bedrock',
              'cerebras',
              'cohere',
              'dashscope',
              'databricks',
              'deepseek',
              'gemini',
              'huggingface',
              'llama2',
              'mistral',
              'ollama',
              'openai',
              'vllm',
              'xai',
            ],
          },
          name: str,
          options: closed({ upstream_url: { type: 'string', pattern: '^https?://[^\\s]+$' }, anthropic_version: str }),
        },
        ['provider'],
      ),
      // Kong refuses an anthropic model without an API version.
      anyOf: [
        { properties: { provider: { not: { const: 'anthropic' } } } },
        { required: ['options'], properties: { options: { required: ['anthropic_version'] } } },
      ],
      'x-message': 'an anthropic model needs options.anthropic_version',
    },
    auth: closed({ header_name: headerName, header_value: vaultReference }, ['header_name', 'header_value']),
  },
  ['route_type', 'model', 'auth'],
);

export const pluginSchemas: Record<string, SchemaObject> = {
  'key-auth': closed({
    key_names: { type: 'array', minItems: 1, items: headerName },
    key_in_header: bool,
    key_in_query: bool,
    key_in_body: bool,
    hide_credentials: bool,
    anonymous: str,
  }),
  jwt: closed({
    key_claim_name: str,
    claims_to_verify: { type: 'array', items: { enum: ['exp', 'nbf'] } },
    header_names: strings,
    uri_param_names: strings,
    cookie_names: strings,
    anonymous: str,
  }),
  acl: closed({ allow: { type: 'array', minItems: 1, items: str } }, ['allow']),
  'rate-limiting': rateLimiting,
  'request-transformer': closed({ remove: closed({ headers: { type: 'array', items: headerName } }) }),
  'correlation-id': closed({
    header_name: headerName,
    generator: { enum: ['tracker', 'uuid', 'uuid#counter'] },
    echo_downstream: bool,
  }),
  prometheus: closed({
    status_code_metrics: bool,
    latency_metrics: bool,
    bandwidth_metrics: bool,
    upstream_health_metrics: bool,
    per_consumer: bool,
    ai_metrics: bool,
  }),
  'ai-proxy': aiProxy,
};
