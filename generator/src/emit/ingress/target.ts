// ingress-nginx's Ingress objects as a deployment target (checked with the Gateway API objects).
import { validateIngressAndGatewayApi } from '../../validate/gateway-api.js';
import type { DeploymentTarget } from '../target.js';
import { existingBackendServices } from './backend-services.js';
import { emitIngressNginx } from './ingress-nginx.js';

/**
 * One check of both outputs, shared by the two targets (compile runs each validator once). With
 * the Kubernetes target (model/outputs.ts adds it to these), its validateManifests checks every
 * object of manifests/ against its schema: not twice.
 */
export const validateIngressOutputs: DeploymentTarget['validate'] = (files, model) =>
  validateIngressAndGatewayApi(files, existingBackendServices(model), {
    schemas: !model.outputs.includes('kubernetes'),
  });

export const target: DeploymentTarget = {
  emit: (model, _configs, source) => emitIngressNginx(model, source),
  validate: validateIngressOutputs,
};
