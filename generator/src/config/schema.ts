// The JSON Schema of gateway.yaml v1. It is the reference of the format: every field carries a
// description (docs are generated from it). Checks that need more than one field at a time
// (references, duplicates, shadowed routes) live in semantic-checks.ts.
const name = {
  type: 'string',
  pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$',
  'x-hint': 'a lower-case name of letters, digits and dashes (at most 63), like "chat-completions"',
};
const duration = {
  type: 'string',
  pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
  'x-hint': 'a duration like "250ms", "5s", "2m" or "1h"',
};
const rate = (what: string) => ({
  type: 'string',
  pattern: '^[0-9]+ ?/ ?(second|minute|hour|day)$',
  'x-hint': `${what} per unit, like "10/minute" (units: second, minute, hour, day)`,
});
const names = (what: string) => ({ type: 'array', items: name, uniqueItems: true, description: what });
const stringMatch = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one of exact, prefix or regex (RE2 syntax).',
  properties: {
    exact: { type: 'string', minLength: 1 },
    prefix: { type: 'string', minLength: 1 },
    regex: { type: 'string', minLength: 1 },
  },
};
const secretRef = {
  type: 'object',
  additionalProperties: false,
  description:
    'Where a secret value comes from, never the value itself: exactly one of a Kubernetes Secret, a mounted file or an environment variable.',
  properties: {
    secret: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'key'],
      properties: { name, key: { type: 'string', pattern: '^[-._a-zA-Z0-9]+$' } },
      description: 'A key of a Kubernetes Secret in the gateway namespace (mounted into the service that needs it).',
    },
    file: { type: 'string', pattern: '^/', 'x-hint': 'an absolute path', description: 'A mounted file.' },
    env: {
      type: 'string',
      pattern: '^[A-Z_][A-Z0-9_]*$',
      'x-hint': 'an environment variable name like OPENAI_API_KEY',
    },
  },
};
const models = {
  type: 'array',
  items: { type: 'string', minLength: 1 },
  uniqueItems: true,
  description: 'Model names allowed; a trailing "*" matches a prefix (e.g. "gpt-4o*"). Omitted: any model.',
};

export const gatewaySchema = {
  $id: 'https://ai-gateway-kit.dev/schema/gateway-v1.json',
  title: 'gateway.yaml v1',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'listeners', 'backends', 'routes'],
  properties: {
    version: { const: 1, description: 'Format version; always 1.' },
    outputs: {
      type: 'array',
      uniqueItems: true,
      items: { enum: ['kubernetes', 'ingress-nginx', 'gateway-api', 'kong'] },
      description:
        'Deployment outputs gen build writes besides envoy/, ratelimit/ and ext-authz/ (always written): kubernetes (manifests/), ingress-nginx and gateway-api (in manifests/, with kubernetes), kong (kong/). Default: all. Leave out the ones you do not deploy: a gateway with thousands of routes builds much faster.',
    },
    gateway: {
      type: 'object',
      additionalProperties: false,
      description: 'Names used for generated objects.',
      properties: {
        name: { ...name, description: 'Prefix of generated Kubernetes objects (default "ai-gateway").' },
        namespace: { ...name, description: 'Kubernetes namespace of everything generated (default "ai-gateway").' },
      },
    },
    listeners: {
      type: 'array',
      minItems: 1,
      description: 'Where Envoy accepts traffic. Each listener is one virtual host of its own.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'port'],
        properties: {
          name,
          port: { type: 'integer', minimum: 1, maximum: 65535 },
          address: { type: 'string', minLength: 1, description: 'Bind address (default "0.0.0.0").' },
          hosts: {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: {
              type: 'string',
              pattern: '^(\\*|(\\*[.-])?[a-zA-Z0-9.-]+(:[0-9]+)?)$',
              'x-hint': 'a host name, "*.domain" or "*"',
            },
            description: 'Host names served (HTTP authority); default ["*"].',
          },
          trusted_proxies: {
            type: 'integer',
            minimum: 0,
            maximum: 10,
            description:
              'How many proxies in front of Envoy append to X-Forwarded-For (default 0): decides the client IP.',
          },
        },
      },
    },
    backends: {
      type: 'array',
      minItems: 1,
      description: 'Upstream model servers and APIs.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'url'],
        properties: {
          name,
          kind: {
            enum: ['openai-compatible', 'anthropic', 'http'],
            description: 'API flavour: sets the credential header and the body fields read (default "http").',
          },
          url: {
            type: 'string',
            pattern: '^https?://[^/:?#\\s]+(:[0-9]{1,5})?/?$',
            'x-hint': 'a URL like "https://api.openai.com" or "http://vllm.models:8000" (scheme, host and port only)',
          },
          connect_timeout: { ...duration, description: 'TCP (and TLS) connect timeout (default "5s").' },
          credential: {
            ...secretRef,
            description:
              'The provider key, injected by ext-authz into the header the provider expects. Clients never see it and it is never written into any generated file.',
          },
          credential_header: {
            type: 'string',
            pattern: '^[a-z0-9-]+$',
            description:
              'Header for the credential (default: "authorization" with "Bearer " for openai-compatible, "x-api-key" for anthropic).',
          },
          health_check: {
            type: 'object',
            additionalProperties: false,
            required: ['path'],
            description: 'Active HTTP health check.',
            properties: {
              path: { type: 'string', pattern: '^/', 'x-hint': 'a path starting with "/"' },
              interval: { ...duration, description: 'Default "10s".' },
              timeout: { ...duration, description: 'Default "2s".' },
              unhealthy_threshold: { type: 'integer', minimum: 1, maximum: 100, description: 'Default 3.' },
              healthy_threshold: { type: 'integer', minimum: 1, maximum: 100, description: 'Default 2.' },
            },
          },
          max_connections: {
            type: 'integer',
            minimum: 1,
            description: 'Circuit breaker: connections and pending requests (default 1024).',
          },
          sni: { type: 'string', minLength: 1, description: 'TLS server name (default: the URL host).' },
        },
      },
    },
    clients: {
      type: 'array',
      description: 'API-key clients. Keys are stored as SHA-256 digests only (`gen key create` makes one).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'tenant', 'keys'],
        properties: {
          name,
          tenant: {
            ...name,
            description: 'The tenant (department, team) the client belongs to; quotas can be per tenant.',
          },
          models,
          keys: {
            type: 'array',
            minItems: 1,
            description: 'Several keys allow rotation with overlap.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['sha256'],
              properties: {
                sha256: {
                  type: 'string',
                  pattern: '^[0-9a-f]{64}$',
                  'x-hint': '64 lower-case hex digits: the SHA-256 digest of the key',
                },
                expires: {
                  type: 'string',
                  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9:]+))?$',
                  'x-hint': 'a date like 2027-01-31 or a time like 2027-01-31T12:00:00Z',
                },
              },
            },
          },
        },
      },
    },
    jwt_providers: {
      type: 'array',
      description: 'JSON Web Token issuers (e.g. the identity provider of a web portal).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'issuer', 'audiences', 'algorithms', 'jwks'],
        properties: {
          name,
          issuer: { type: 'string', minLength: 1 },
          audiences: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, uniqueItems: true },
          algorithms: {
            type: 'array',
            minItems: 1,
            uniqueItems: true,
            items: { enum: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] },
            description: 'Pinned signature algorithms; "none" and HMAC are never accepted.',
          },
          jwks: {
            type: 'object',
            additionalProperties: false,
            description: 'Exactly one of url or file.',
            properties: {
              url: { type: 'string', pattern: '^https?://', 'x-hint': 'an http(s) URL' },
              file: { type: 'string', pattern: '^/', 'x-hint': 'an absolute path' },
              cache: { ...duration, description: 'How long fetched keys are kept (default "10m").' },
            },
          },
          claims: {
            type: 'object',
            additionalProperties: false,
            description: 'Which claims name the client, tenant and scopes (defaults: sub, tenant, scope).',
            properties: {
              client: { type: 'string', minLength: 1 },
              tenant: { type: 'string', minLength: 1 },
              scopes: { type: 'string', minLength: 1 },
            },
          },
          clock_skew: { ...duration, description: 'Tolerance for exp and nbf (default "60s").' },
        },
      },
    },
    routes: {
      type: 'array',
      minItems: 1,
      description: 'Matched in order: the first route that matches a request wins.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'match', 'auth'],
        properties: {
          name,
          listener: { ...name, description: 'The listener that serves it (may be omitted when there is only one).' },
          match: {
            type: 'object',
            additionalProperties: false,
            required: ['path'],
            properties: {
              path: stringMatch,
              methods: {
                type: 'array',
                minItems: 1,
                uniqueItems: true,
                items: { enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
              },
              headers: {
                type: 'array',
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['name'],
                  properties: {
                    name: { type: 'string', pattern: '^[a-z0-9-]+$', 'x-hint': 'a lower-case header name' },
                    ...stringMatch.properties,
                    present: { type: 'boolean' },
                  },
                },
              },
              body: {
                type: 'object',
                description:
                  'Top-level JSON body fields and the values that match (a string or a list of strings), e.g. {model: [gpt-4o, gpt-4o-mini]}. Read by ext-authz.',
                propertyNames: { pattern: '^[a-zA-Z_][a-zA-Z0-9_]{0,63}$' },
                additionalProperties: {
                  anyOf: [
                    { type: 'string', minLength: 1 },
                    { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } },
                  ],
                },
              },
              personal_data: {
                type: 'boolean',
                description: 'Match only requests whose body does (true) or does not (false) contain personal data.',
              },
            },
          },
          backend: { ...name, description: 'The backend that serves the route.' },
          backends: {
            type: 'array',
            minItems: 2,
            description: 'A weighted split (canary, A/B) instead of one backend.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'weight'],
              properties: { name, weight: { type: 'integer', minimum: 0, maximum: 1000 } },
            },
          },
          failover: {
            ...names('Backends tried in order when the ones before fail (429, 5xx, reset) or are unhealthy.'),
            minItems: 1,
          },
          timeout: { ...duration, description: 'Whole-request timeout (default "60s"; "0s" for none).' },
          streaming: {
            type: 'boolean',
            description: 'Server-sent events: no whole-request timeout, only the idle timeout between chunks.',
          },
          idle_timeout: { ...duration, description: 'Longest silence on the stream (default "300s" when streaming).' },
          retries: {
            type: 'object',
            additionalProperties: false,
            description: 'Retries with exponential backoff; with failover, each retry moves on to the next backend.',
            properties: {
              attempts: { type: 'integer', minimum: 0, maximum: 10 },
              on: {
                type: 'array',
                minItems: 1,
                uniqueItems: true,
                items: { enum: ['5xx', 'gateway-error', 'reset', 'connect-failure', '429'] },
                description: 'Default [5xx, reset, connect-failure, 429].',
              },
              backoff: {
                type: 'object',
                additionalProperties: false,
                properties: { base: duration, max: duration },
              },
              per_try_timeout: duration,
            },
          },
          auth: {
            anyOf: [
              { const: 'anonymous' },
              {
                type: 'object',
                additionalProperties: false,
                properties: {
                  api_key: { type: 'boolean', description: 'Accept the API keys of `clients`.' },
                  jwt: names('Accept tokens of these JWT providers.'),
                  clients: names('Only these clients.'),
                  tenants: names('Only clients of these tenants.'),
                  scopes: {
                    type: 'array',
                    items: { type: 'string', minLength: 1 },
                    description: 'JWT scopes required (all).',
                  },
                },
              },
            ],
            description:
              'Who may call the route: `anonymous`, or API keys and/or JWT providers, optionally narrowed to clients, tenants and scopes.',
          },
          models: {
            ...models,
            description: 'Models this route serves to anybody (in addition to each client’s own list).',
          },
          personal_data: {
            enum: ['allow', 'deny'],
            description: '"deny" rejects requests whose body contains personal data (403).',
          },
        },
      },
    },
    limits: {
      type: 'array',
      description: 'Quotas, enforced by the rate-limit service (Redis) across every Envoy.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'per'],
        properties: {
          name,
          per: {
            anyOf: [
              { enum: ['ip', 'client', 'tenant', 'route', 'model'] },
              {
                type: 'array',
                minItems: 1,
                uniqueItems: true,
                items: { enum: ['ip', 'client', 'tenant', 'route', 'model'] },
              },
            ],
            description: 'What is counted separately: ip, client, tenant, route, model, or a list of them.',
          },
          requests: rate('requests'),
          tokens: rate('LLM tokens (estimated by ext-authz before the request)'),
          routes: names('Routes it applies to (default: every route).'),
          overrides: {
            type: 'object',
            description: 'Other amounts for single values of a one-key limit, e.g. {hr: 2000/day}.',
            propertyNames: { minLength: 1 },
            additionalProperties: rate('amount'),
          },
          only_overrides: { type: 'boolean', description: 'Limit only the values listed in overrides.' },
          shadow: { type: 'boolean', description: 'Count and report, never reject.' },
          algorithm: { enum: ['fixed_window', 'sliding_window', 'token_bucket'] },
        },
      },
    },
    personal_data: {
      type: 'object',
      additionalProperties: false,
      description: 'What ext-authz counts as personal data in request bodies.',
      properties: {
        detect: {
          type: 'array',
          uniqueItems: true,
          items: { enum: ['email', 'phone', 'card'] },
          description: 'Built-in detectors (default all three; cards are checked with Luhn).',
        },
        patterns: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'regex'],
            properties: { name, regex: { type: 'string', minLength: 1 } },
          },
        },
      },
    },
    kubernetes: {
      type: 'object',
      additionalProperties: false,
      description: 'How the gateway runs on Kubernetes (manifests/, kong/).',
      properties: {
        images: {
          type: 'object',
          additionalProperties: false,
          description:
            'Container images (defaults: the official Envoy and Redis images, and this project’s images at its version).',
          properties: {
            envoy: { type: 'string', minLength: 1 },
            ext_authz: { type: 'string', minLength: 1 },
            ratelimit: { type: 'string', minLength: 1 },
            redis: { type: 'string', minLength: 1 },
          },
        },
        resources: {
          type: 'object',
          additionalProperties: false,
          description: 'CPU and memory requests (limits: memory = request, no CPU limit) per component.',
          properties: Object.fromEntries(
            ['envoy', 'ext_authz', 'ratelimit', 'redis'].map((c) => [
              c,
              {
                type: 'object',
                additionalProperties: false,
                properties: {
                  cpu: {
                    type: 'string',
                    pattern: '^[0-9]+(\\.[0-9]+)?m?$',
                    'x-hint': 'a CPU quantity like "250m" or "1"',
                  },
                  memory: { type: 'string', pattern: '^[0-9]+(Ki|Mi|Gi)$', 'x-hint': 'a memory quantity like "256Mi"' },
                },
              },
            ]),
          ),
        },
        max_replicas: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          description: 'Autoscaling ceiling per component (default 3 × replicas).',
        },
        ingress: {
          type: 'object',
          additionalProperties: false,
          description: 'An Ingress for ingress-nginx (auth-url to ext-authz) and the Gateway API objects.',
          properties: {
            host: { type: 'string', pattern: '^[a-z0-9.-]+$', 'x-hint': 'a host name' },
            class: { type: 'string', minLength: 1, description: 'ingressClassName (default "nginx").' },
            tls_secret: { ...name, description: 'Secret holding the TLS certificate for host.' },
            gateway_class: {
              type: 'string',
              minLength: 1,
              description: 'gatewayClassName of the Gateway (default "envoy-gateway").',
            },
          },
        },
        resource_quota: {
          type: 'object',
          additionalProperties: false,
          description: 'A ResourceQuota for the namespace.',
          properties: {
            cpu: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?m?$' },
            memory: { type: 'string', pattern: '^[0-9]+(Ki|Mi|Gi)$' },
          },
        },
        alerts: {
          type: 'object',
          additionalProperties: false,
          description: 'Thresholds of the PrometheusRule alerts.',
          properties: {
            p95_latency: {
              ...duration,
              description: 'Alert when Envoy’s p95 request latency stays above this (default "10s").',
            },
            token_budget_ratio: {
              type: 'number',
              exclusiveMinimum: 0,
              maximum: 1,
              description: 'Alert when a tenant has used this share of a token budget (default 0.9).',
            },
          },
        },
      },
    },
    services: {
      type: 'object',
      additionalProperties: false,
      description: 'Settings of ext-authz, the rate-limit service, Redis and Envoy.',
      properties: {
        redis: {
          type: 'object',
          additionalProperties: false,
          description: 'Exactly one of url or cluster; omitted: an in-cluster Redis is deployed.',
          properties: {
            url: { type: 'string', pattern: '^rediss?://', 'x-hint': 'a redis:// or rediss:// URL without password' },
            cluster: {
              type: 'array',
              minItems: 1,
              items: { type: 'string', pattern: '^rediss?://', 'x-hint': 'a redis:// or rediss:// URL' },
            },
            password: secretRef,
            when_down: {
              enum: ['error', 'allow', 'local'],
              description:
                'error: the rate-limit service answers an error and Envoy applies ratelimit.on_error; allow: requests pass; local: each replica keeps limiting from memory.',
            },
          },
        },
        ratelimit: {
          type: 'object',
          additionalProperties: false,
          properties: {
            domain: { ...name, description: 'Rate-limit domain (default "ai-gateway").' },
            address: { type: 'string', pattern: '^[a-z0-9.-]+:[0-9]+$', 'x-hint': 'host:port' },
            replicas: { type: 'integer', minimum: 1, maximum: 100 },
            timeout: duration,
            on_error: {
              enum: ['deny', 'allow'],
              description: 'What Envoy does when the rate-limit service fails (default deny: fail closed).',
            },
          },
        },
        ext_authz: {
          type: 'object',
          additionalProperties: false,
          properties: {
            address: { type: 'string', pattern: '^[a-z0-9.-]+:[0-9]+$', 'x-hint': 'host:port' },
            replicas: { type: 'integer', minimum: 1, maximum: 100 },
            timeout: duration,
            max_body_bytes: {
              type: 'integer',
              minimum: 1024,
              maximum: 8388608,
              description:
                'Largest body sent to ext-authz for inspection (default 262144); larger bodies are rejected with 413.',
            },
          },
        },
        envoy: {
          type: 'object',
          additionalProperties: false,
          properties: {
            replicas: { type: 'integer', minimum: 1, maximum: 100 },
            admin_port: { type: 'integer', minimum: 1, maximum: 65535 },
          },
        },
      },
    },
  },
} as const;
