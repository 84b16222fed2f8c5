// The gateway's namespace, with Pod Security Admission at "restricted": every generated pod meets
// it (non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp).
import type { INamespace } from 'kubernetes-models/v1';
import type { GatewayModel } from '../../model/types.js';
import { gatewayLabels } from './labels.js';

export function namespace(model: GatewayModel): INamespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: model.namespace,
      labels: {
        ...gatewayLabels(model),
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    },
  };
}
