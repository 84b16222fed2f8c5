import type { RawGateway } from './raw.js';
import type { Component, KubernetesSettings } from './types.js';
import { durationMs } from './units.js';

/** The version of this project's images that the manifests reference by default. */
export const projectImageTag = '0.1.0';

const defaultImages: Record<Component, string> = {
  envoy: 'envoyproxy/envoy:v1.31.3',
  ext_authz: `ghcr.io/ai-gateway-kit/ext-authz:${projectImageTag}`,
  ratelimit: `ghcr.io/ai-gateway-kit/ratelimit-service:${projectImageTag}`,
  redis: 'redis:7.2-alpine',
};

const defaultResources: Record<Component, { cpu: string; memory: string }> = {
  envoy: { cpu: '500m', memory: '512Mi' },
  ext_authz: { cpu: '250m', memory: '256Mi' },
  ratelimit: { cpu: '250m', memory: '256Mi' },
  redis: { cpu: '250m', memory: '512Mi' },
};

export function buildKubernetes(raw: RawGateway): KubernetesSettings {
  const k = raw.kubernetes ?? {};
  const components = Object.keys(defaultImages) as Component[];
  return {
    images: Object.fromEntries(components.map((c) => [c, k.images?.[c] ?? defaultImages[c]])) as Record<
      Component,
      string
    >,
    resources: Object.fromEntries(
      components.map((c) => [c, { ...defaultResources[c], ...k.resources?.[c] }]),
    ) as Record<Component, { cpu: string; memory: string }>,
    maxReplicas: k.max_replicas,
    ingress: {
      host: k.ingress?.host,
      class: k.ingress?.class ?? 'nginx',
      tlsSecret: k.ingress?.tls_secret,
      gatewayClass: k.ingress?.gateway_class ?? 'envoy-gateway',
    },
    resourceQuota: k.resource_quota,
    alerts: {
      p95LatencySeconds: durationMs(k.alerts?.p95_latency ?? '10s') / 1000,
      tokenBudgetRatio: k.alerts?.token_budget_ratio ?? 0.9,
    },
  };
}
