// At most one pod of a part down at a time by a voluntary disruption (node drain): never blocks a
// drain, even with one replica, and keeps the others serving.
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { GatewayModel } from '../../model/types.js';
import { metadata, objectName, type Part, partLabels, selectorLabels } from './labels.js';

export function disruptionBudget(model: GatewayModel, part: Part): IPodDisruptionBudget {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(model, objectName(model, part), partLabels(model, part)),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(model, part) } },
  };
}
