// kubernetes.resource_quota: a ResourceQuota on the namespace's CPU and memory requests (and
// memory limits, which equal the requests here). A quota too small for the gateway at its
// configured replicas plus one surge pod per Deployment (rolling updates) is reported.
import type { IResourceQuota } from 'kubernetes-models/v1';
import type { GatewayModel } from '../../model/types.js';
import { gatewayLabels, metadata, type Part, parts } from './labels.js';
import { cpuMillis, memoryBytes } from './quantity.js';

export function resourceQuota(model: GatewayModel): IResourceQuota | undefined {
  const q = model.kubernetes.resourceQuota;
  if (!q || (q.cpu === undefined && q.memory === undefined)) return undefined;
  const hard: Record<string, string> = {};
  if (q.cpu !== undefined) hard['requests.cpu'] = q.cpu;
  if (q.memory !== undefined) {
    hard['requests.memory'] = q.memory;
    hard['limits.memory'] = q.memory;
  }
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: metadata(model, model.name, gatewayLabels(model)),
    spec: { hard },
  };
}

/** Pods of each part during a rolling update at the configured replicas. */
function podsDuringRollout(model: GatewayModel): Record<Part, number> {
  const s = model.services;
  return {
    envoy: s.envoy.replicas + 1,
    'ext-authz': s.extAuthz.replicas + 1,
    ratelimit: s.ratelimit.replicas + 1,
    redis: s.redis.inCluster ? 1 : 0,
  };
}

export function quotaWarnings(model: GatewayModel): string[] {
  const q = model.kubernetes.resourceQuota;
  if (!q) return [];
  const pods = podsDuringRollout(model);
  const total = (read: (v: string) => number | undefined, field: 'cpu' | 'memory') =>
    (Object.keys(pods) as Part[]).reduce(
      (sum, p) => sum + pods[p] * (read(model.kubernetes.resources[parts[p].component][field]) ?? 0),
      0,
    );
  const warnings: string[] = [];
  const cpu = q.cpu === undefined ? undefined : cpuMillis(q.cpu);
  if (cpu !== undefined && total(cpuMillis, 'cpu') > cpu) {
    warnings.push(
      `kubernetes.resource_quota.cpu ${q.cpu} is less than the gateway requests during a rolling update (${total(cpuMillis, 'cpu')}m): pods will not start`,
    );
  }
  const mem = q.memory === undefined ? undefined : memoryBytes(q.memory);
  if (mem !== undefined && total(memoryBytes, 'memory') > mem) {
    warnings.push(
      `kubernetes.resource_quota.memory ${q.memory} is less than the gateway requests during a rolling update (${Math.ceil(total(memoryBytes, 'memory') / 2 ** 20)}Mi): pods will not start`,
    );
  }
  return warnings;
}
