import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { exampleKeys } from '../../../../test/fixtures/example-keys.js';
import { compileFile } from '../../../../test/support/compile-file.js';
import { type CompileResult, compileGateway, outputFiles } from '../../compile.js';
import { parseGatewaySource } from '../../config/source.js';
import type { RenderedConfigs } from '../target.js';
import { emitManifests, secretCommands } from './index.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read by the assertions below
type Obj = Record<string, any>;

const configsOf = (files: Map<string, string>): RenderedConfigs => ({
  envoy: files.get(outputFiles.envoy)!,
  ratelimit: files.get(outputFiles.ratelimit)!,
  policy: files.get(outputFiles.policy)!,
});

function build(c: CompileResult, configs = configsOf(c.files)) {
  return emitManifests(c.model, configs, 'gateway.yaml');
}

const docs = (files: Map<string, string>, file?: string): Obj[] =>
  [...files]
    .filter(([f]) => f.endsWith('.yaml') && (!file || f === `manifests/${file}`))
    .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as Obj));
const find = (files: Map<string, string>, kind: string, name: string) =>
  docs(files).find((o) => o.kind === kind && o.metadata.name === name);
const checksum = (files: Map<string, string>, deployment: string) =>
  find(files, 'Deployment', deployment)?.spec.template.metadata.annotations['checksum/config'];

/** A small gateway: no services.redis (so an in-cluster Redis), one secret credential. */
const small = (extra = '', limits = '') => `version: 1
gateway: { name: edge, namespace: llm }
listeners:
  - { name: public, port: 8080 }
backends:
  - name: openai
    kind: openai-compatible
    url: https://api.openai.com
    credential: { secret: { name: provider-keys, key: openai } }
  - name: anthropic
    kind: anthropic
    url: https://api.anthropic.com
    credential: { secret: { name: provider-keys, key: anthropic } }
  - name: local
    kind: openai-compatible
    url: http://vllm.models.svc.cluster.local:8000
    credential: { env: LOCAL_KEY }
clients:
  - name: app
    tenant: team
    keys: [{ sha256: 3b7e0c8f5d2a9e14c6b1f0a7d3e8c5b29f4a1d6e0c7b3a8f5e2d9c4b1a6f0e37 }]
routes:
  - { name: chat, match: { path: { prefix: /v1/ } }, backend: openai, auth: { api_key: true } }
  - { name: claude, match: { path: { prefix: /anthropic/ } }, backend: anthropic, auth: { api_key: true } }
  - { name: local, match: { path: { prefix: /local/ } }, backend: local, auth: { api_key: true } }
limits:
  - { name: per-client, per: client, requests: 60/minute }
${limits}
${extra}`;
const compileSmall = (extra = '', limits = '') =>
  compileGateway(parseGatewaySource(small(extra, limits), 'gateway.yaml'));

describe('Kubernetes manifests of examples/gateway.yaml', () => {
  const example = compileFile('examples/gateway.yaml');
  const out = build(example);

  it('writes one file per concern, and the same bytes every time', () => {
    expect([...out.files.keys()]).toEqual([
      'manifests/README.md',
      'manifests/envoy.yaml',
      'manifests/ext-authz.yaml',
      'manifests/monitoring.yaml',
      'manifests/namespace.yaml',
      'manifests/network-policies.yaml',
      'manifests/ratelimit.yaml',
    ]);
    expect(build(compileFile('examples/gateway.yaml')).files).toEqual(out.files);
    expect(out.warnings).toEqual([]);
    for (const o of docs(out.files)) {
      if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('ai-gateway');
      expect(o.metadata.labels['app.kubernetes.io/instance']).toBe('ai-gateway');
      expect(o.metadata.labels['app.kubernetes.io/managed-by']).toBe('ai-gateway-kit');
    }
  });

  it('names the Services as Envoy calls them', () => {
    expect(find(out.files, 'Service', 'ext-authz')?.spec.ports[0]).toMatchObject({ name: 'grpc', port: 9001 });
    expect(find(out.files, 'Service', 'ratelimit')?.spec.ports[0]).toMatchObject({ name: 'grpc', port: 8081 });
    expect(find(out.files, 'Service', 'ai-gateway-envoy')?.spec.ports.map((p: Obj) => p.port)).toEqual([8080, 19001]);
  });

  it('changes only the checksum of the Deployment whose config changed', () => {
    const configs = configsOf(example.files);
    const changed = build(example, { ...configs, policy: `${configs.policy}# another client\n` });
    expect(checksum(changed.files, 'ai-gateway-ext-authz')).not.toBe(checksum(out.files, 'ai-gateway-ext-authz'));
    expect(checksum(changed.files, 'ai-gateway-envoy')).toBe(checksum(out.files, 'ai-gateway-envoy'));
    expect(checksum(changed.files, 'ai-gateway-ratelimit')).toBe(checksum(out.files, 'ai-gateway-ratelimit'));
    expect(find(changed.files, 'ConfigMap', 'ai-gateway-ext-authz-policy')?.data['policy.yaml']).toContain(
      '# another client',
    );
  });

  it('lets only Envoy (and ext-authz, which charges token quotas) call the gRPC ports', () => {
    const policies = docs(out.files, 'network-policies.yaml');
    expect(policies.find((p) => p.metadata.name === 'ai-gateway-default-deny-ingress')?.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress'],
    });
    const callers = (port: number) =>
      policies.flatMap((p) =>
        (p.spec.ingress ?? [])
          .filter((r: Obj) => r.ports?.some((x: Obj) => x.port === port))
          .map((r: Obj) => ({ to: p.spec.podSelector.matchLabels?.['app.kubernetes.io/name'], from: r.from })),
      );
    const envoyPods = {
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'envoy', 'app.kubernetes.io/instance': 'ai-gateway' } },
    };
    const extAuthzPods = {
      podSelector: {
        matchLabels: { 'app.kubernetes.io/name': 'ext-authz', 'app.kubernetes.io/instance': 'ai-gateway' },
      },
    };
    expect(callers(9001)).toEqual([{ to: 'ext-authz', from: [envoyPods] }]);
    expect(callers(8081)).toEqual([{ to: 'ratelimit-service', from: [envoyPods, extAuthzPods] }]);
    // The example's Redis runs in the namespace: only the rate-limit service may reach its port.
    expect(callers(6379)).toEqual([
      {
        to: undefined,
        from: [
          {
            podSelector: {
              matchLabels: {
                'app.kubernetes.io/name': 'ratelimit-service',
                'app.kubernetes.io/instance': 'ai-gateway',
              },
            },
          },
        ],
      },
    ]);
  });

  it('deploys no Redis when gateway.yaml names one, and points the rate-limit service at it', () => {
    expect(docs(out.files).some((o) => o.kind === 'StatefulSet')).toBe(false);
    const rl = find(out.files, 'Deployment', 'ai-gateway-ratelimit')!.spec.template.spec.containers[0];
    expect(rl.env).toEqual([
      { name: 'REDIS_URL', value: 'redis://redis.ai-gateway.svc.cluster.local:6379' },
      { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'password' } } },
    ]);
    expect(rl.args).toEqual(
      expect.arrayContaining(['--config', '/etc/ratelimit', '--grpc-port', '8081', '--replicas', '2']),
    );
  });

  it('holds no Secret and no secret value, and mounts the provider key where policy.yaml reads it', () => {
    expect(docs(out.files).filter((o) => o.kind === 'Secret')).toEqual([]);
    const all = [...out.files.values()].join('\n');
    for (const key of Object.values(exampleKeys)) expect(all).not.toContain(key);
    const pod = find(out.files, 'Deployment', 'ai-gateway-ext-authz')!.spec.template.spec;
    expect(pod.volumes).toContainEqual({
      name: 'credentials-0',
      secret: { secretName: 'openai-api-key', items: [{ key: 'api-key', path: 'api-key' }], defaultMode: 0o440 },
    });
    expect(pod.containers[0].volumeMounts).toContainEqual({
      name: 'credentials-0',
      mountPath: '/var/run/secrets/ai-gateway/openai-api-key',
      readOnly: true,
    });
    expect(configsOf(example.files).policy).toContain('/var/run/secrets/ai-gateway/openai-api-key/api-key');
    expect(secretCommands(example.model)).toEqual([
      'kubectl -n ai-gateway create secret generic openai-api-key --from-literal=api-key=<value>',
      'kubectl -n ai-gateway create secret generic redis-auth --from-literal=password=<value>',
    ]);
    expect(out.files.get('manifests/README.md')).toContain(secretCommands(example.model)[0]);
  });

  it('takes replicas and resources from gateway.yaml', () => {
    const envoy = find(out.files, 'Deployment', 'ai-gateway-envoy')!;
    expect(envoy.spec.replicas).toBe(3);
    expect(envoy.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(envoy.spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '500m', memory: '512Mi' },
      limits: { memory: '512Mi' },
    });
    expect(find(out.files, 'HorizontalPodAutoscaler', 'ai-gateway-envoy')?.spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 9,
    });
    expect(find(out.files, 'Deployment', 'ai-gateway-ext-authz')?.spec.replicas).toBe(2);
  });

  it('alerts on 5xx, latency in milliseconds and token budgets from the limits', () => {
    const rule = find(out.files, 'PrometheusRule', 'ai-gateway')!;
    const rules: Obj[] = rule.spec.groups.flatMap((g: Obj) => g.rules);
    const expr = (name: string) => rules.filter((r) => r.alert === name).map((r) => r.expr);
    expect(expr('AIGatewayHigh5xxRatio')[0]).toContain('envoy_http_downstream_rq_xx{');
    expect(expr('AIGatewayHigh5xxRatio')[0]).toContain('envoy_response_code_class="5"');
    expect(expr('AIGatewayHighP95Latency')[0]).toMatch(/envoy_http_downstream_rq_time_bucket.*> 10000$/);
    expect(expr('AIGatewayTokenBudgetNearlySpent')).toEqual([
      'sum by (tenant) (increase(ext_authz_estimated_tokens_total{namespace="ai-gateway",service="ext-authz",tenant!=""}[1m])) > 180000',
      'sum(increase(ratelimit_hits_total{namespace="ai-gateway",service="ratelimit",domain="ai-gateway",descriptor="ai-gateway.limit_tenant-model-tokens-daily.tenant.model"}[1d])) > 4500000',
    ]);
  });
});

describe('Kubernetes manifests of a small gateway', () => {
  it('deploys Redis in the cluster when gateway.yaml names none', () => {
    const out = build(compileSmall());
    expect([...out.files.keys()]).toContain('manifests/redis.yaml');
    const sts = find(out.files, 'StatefulSet', 'edge-redis')!;
    expect(sts.metadata.namespace).toBe('llm');
    expect(sts.spec.template.spec.containers[0].args).toEqual(
      expect.arrayContaining(['--save', '', '--appendonly', 'no', '--maxmemory', String(384 * 2 ** 20)]),
    );
    const rl = find(out.files, 'Deployment', 'edge-ratelimit')!.spec.template.spec.containers[0];
    expect(rl.env).toEqual([{ name: 'REDIS_URL', value: 'redis://edge-redis.llm.svc.cluster.local:6379' }]);
    const redisPolicy = docs(out.files, 'network-policies.yaml').find((p) => p.metadata.name === 'edge-redis')!;
    expect(redisPolicy.spec.ingress).toEqual([
      {
        from: [
          {
            podSelector: {
              matchLabels: { 'app.kubernetes.io/name': 'ratelimit-service', 'app.kubernetes.io/instance': 'edge' },
            },
          },
        ],
        ports: [{ protocol: 'TCP', port: 6379 }],
      },
    ]);
  });

  it('lets only Envoy call the rate-limit service when there is no token quota', () => {
    const out = build(compileSmall());
    const rl = docs(out.files, 'network-policies.yaml').find((p) => p.metadata.name === 'edge-ratelimit')!;
    expect(rl.spec.ingress[0].from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'envoy', 'app.kubernetes.io/instance': 'edge' } } },
    ]);
    expect(find(out.files, 'Deployment', 'edge-ext-authz')!.spec.template.spec.containers[0].args).not.toContain(
      '--ratelimit',
    );
  });

  it('mounts one Secret volume per Secret, with the keys backends use, and says what the operator provides', () => {
    const c = compileSmall();
    const out = build(c);
    const pod = find(out.files, 'Deployment', 'edge-ext-authz')!.spec.template.spec;
    expect(pod.volumes.filter((v: Obj) => v.secret)).toEqual([
      {
        name: 'credentials-0',
        secret: {
          secretName: 'provider-keys',
          items: [
            { key: 'anthropic', path: 'anthropic' },
            { key: 'openai', path: 'openai' },
          ],
          defaultMode: 0o440,
        },
      },
    ]);
    expect(secretCommands(c.model)).toEqual([
      'kubectl -n llm create secret generic provider-keys --from-literal=anthropic=<value> --from-literal=openai=<value>',
    ]);
    expect(out.warnings).toEqual([
      expect.stringContaining('does not set environment variable LOCAL_KEY (provider key of backend local)'),
    ]);
    expect(out.files.get('manifests/README.md')).toContain('environment variable `LOCAL_KEY`');
  });

  it('runs one service process per whole core of the CPU request (--workers)', () => {
    const out = build(
      compileSmall(`kubernetes:
  resources:
    ext_authz: { cpu: "2" }
    ratelimit: { cpu: 1500m }
`),
    );
    const args = (name: string) => find(out.files, 'Deployment', name)!.spec.template.spec.containers[0].args;
    expect(args('edge-ext-authz')).toEqual(expect.arrayContaining(['--workers', '2']));
    expect(args('edge-ratelimit')).not.toContain('--workers');
    const defaults = build(compileSmall(''));
    expect(find(defaults.files, 'Deployment', 'edge-ext-authz')!.spec.template.spec.containers[0].args).not.toContain(
      '--workers',
    );
  });

  it('takes replicas, resources, the autoscaling ceiling and the quota from gateway.yaml', () => {
    const out = build(
      compileSmall(`services:
  envoy: { replicas: 4 }
  ext_authz: { replicas: 3 }
  ratelimit: { replicas: 1 }
kubernetes:
  max_replicas: 10
  resources:
    envoy: { cpu: "2", memory: 1Gi }
    redis: { memory: 128Mi }
  resource_quota: { cpu: "4", memory: 8Gi }
`),
    );
    const envoy = find(out.files, 'Deployment', 'edge-envoy')!;
    expect(envoy.spec.replicas).toBe(4);
    expect(envoy.spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: '2', memory: '1Gi' },
      limits: { memory: '1Gi' },
    });
    expect(find(out.files, 'Deployment', 'edge-ext-authz')!.spec.replicas).toBe(3);
    const rl = find(out.files, 'Deployment', 'edge-ratelimit')!;
    expect(rl.spec.replicas).toBe(1);
    expect(rl.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(['--replicas', '1']));
    expect(find(out.files, 'HorizontalPodAutoscaler', 'edge-envoy')!.spec).toMatchObject({
      minReplicas: 4,
      maxReplicas: 10,
    });
    expect(find(out.files, 'StatefulSet', 'edge-redis')!.spec.template.spec.containers[0].resources.limits).toEqual({
      memory: '128Mi',
    });
    expect(find(out.files, 'ResourceQuota', 'edge')!.spec.hard).toEqual({
      'requests.cpu': '4',
      'requests.memory': '8Gi',
      'limits.memory': '8Gi',
    });
    // 5 × 2 CPUs of Envoy alone during a rolling update do not fit in 4.
    expect(out.warnings).toContainEqual(expect.stringContaining('kubernetes.resource_quota.cpu 4 is less than'));
  });

  it('alerts on token budgets: per value for overrides, per tenant from ext-authz, in sum otherwise', () => {
    const out = build(
      compileSmall(
        'kubernetes: { alerts: { token_budget_ratio: 0.8 } }\n',
        `  - { name: team-tokens, per: tenant, tokens: 1000/hour, overrides: { team: 5000/hour } }
  - { name: client-tokens, per: client, tokens: 100/second }`,
      ),
    );
    const rules: Obj[] = find(out.files, 'PrometheusRule', 'edge')!.spec.groups[1].rules;
    expect(rules.map((r) => [r.expr, r.labels.severity, r.labels.precision])).toEqual([
      [
        'sum(increase(ratelimit_hits_total{namespace="llm",service="ratelimit",domain="ai-gateway",descriptor="ai-gateway.limit_team-tokens.tenant_team"}[1h])) > 4000',
        'warning',
        'per-value',
      ],
      [
        'sum by (tenant) (increase(ext_authz_estimated_tokens_total{namespace="llm",service="ext-authz",tenant!="",tenant!~"team"}[1h])) > 800',
        'warning',
        'per-tenant',
      ],
      [
        'sum(rate(ratelimit_hits_total{namespace="llm",service="ratelimit",domain="ai-gateway",descriptor="ai-gateway.limit_client-tokens.client"}[1m])) > 80',
        'info',
        'aggregate',
      ],
    ]);
    expect(rules[0].labels).toMatchObject({ limit: 'team-tokens', tenant: 'team' });
  });

  it('keeps its own Service name, and says so, when Envoy calls a host outside the namespace', () => {
    const out = build(compileSmall('services:\n  ext_authz: { address: "authz.security.svc.cluster.local:9100" }\n'));
    expect(find(out.files, 'Service', 'edge-ext-authz')?.spec.ports[0]).toMatchObject({
      port: 9100,
      targetPort: 'grpc',
    });
    expect(out.warnings).toContainEqual(expect.stringContaining('the ext-authz Service is named "edge-ext-authz"'));
  });
});
