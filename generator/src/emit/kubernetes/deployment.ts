// A part's Deployment: rolling updates that never go under the wanted replicas (maxUnavailable 0,
// maxSurge 1) and a pod template that changes whenever the part's config does.
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { GatewayModel } from '../../model/types.js';
import type { PodSpec } from './k8s-types.js';
import { metadata, objectName, type Part, partLabels, selectorLabels } from './labels.js';
import { checksumAnnotation, sha256 } from './pod.js';

export function deployment(
  model: GatewayModel,
  part: Part,
  opts: { replicas: number; config: string; pod: PodSpec },
): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(model, objectName(model, part), partLabels(model, part)),
    spec: {
      replicas: opts.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(model, part) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: partLabels(model, part), annotations: { [checksumAnnotation]: sha256(opts.config) } },
        spec: opts.pod,
      },
    },
  };
}

/** Readiness and liveness of our two services: /readyz and /healthz on their HTTP port. */
export const serviceProbes = {
  readinessProbe: {
    httpGet: { path: '/readyz', port: 'http' },
    periodSeconds: 5,
    failureThreshold: 2,
    timeoutSeconds: 2,
  },
  livenessProbe: {
    httpGet: { path: '/healthz', port: 'http' },
    initialDelaySeconds: 5,
    periodSeconds: 10,
    failureThreshold: 3,
    timeoutSeconds: 2,
  },
};
