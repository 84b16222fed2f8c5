// CPU-based autoscaling: from the replicas in gateway.yaml up to kubernetes.max_replicas (default 3×).
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import type { GatewayModel } from '../../model/types.js';
import { metadata, objectName, type Part, partLabels } from './labels.js';

export const targetCpuUtilization = 70;

export function maxReplicas(model: GatewayModel, replicas: number): number {
  return Math.max(replicas, model.kubernetes.maxReplicas ?? 3 * replicas);
}

export function autoscaler(model: GatewayModel, part: Part, replicas: number): IHorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata(model, objectName(model, part), partLabels(model, part)),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: objectName(model, part) },
      minReplicas: replicas,
      maxReplicas: maxReplicas(model, replicas),
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: targetCpuUtilization } },
        },
      ],
    },
  };
}
