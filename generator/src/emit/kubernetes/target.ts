// The Kubernetes manifests as a deployment target: emitted, then checked against the models.
import { validateManifests } from '../../validate/kubernetes.js';
import type { DeploymentTarget } from '../target.js';
import { emitManifests } from './index.js';

export const target: DeploymentTarget = {
  emit: emitManifests,
  validate: (files) => validateManifests(files),
};
