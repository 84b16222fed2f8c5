// Gateway API objects as a deployment target (checked with the Ingress objects).
import { validateIngressOutputs } from '../ingress/target.js';
import type { DeploymentTarget } from '../target.js';
import { emitGatewayApi } from './gateway-api.js';

export const target: DeploymentTarget = {
  emit: (model, _configs, source) => emitGatewayApi(model, source),
  validate: validateIngressOutputs,
};
