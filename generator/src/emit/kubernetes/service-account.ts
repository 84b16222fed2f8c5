// One ServiceAccount per part, without an API token: no part talks to the Kubernetes API.
import type { IServiceAccount } from 'kubernetes-models/v1';
import type { GatewayModel } from '../../model/types.js';
import { metadata, objectName, type Part, partLabels } from './labels.js';

export function serviceAccount(model: GatewayModel, part: Part): IServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: metadata(model, objectName(model, part), partLabels(model, part)),
    automountServiceAccountToken: false,
  };
}
