// Kong (KIC CRDs and decK) as a deployment target: emitted, then checked against Kong's schemas.
import { validateKong } from '../../validate/kong.js';
import type { DeploymentTarget } from '../target.js';
import { emitKong } from './index.js';

export const target: DeploymentTarget = {
  emit: (model, _configs, source) => emitKong(model, source),
  validate: (files) => validateKong(files),
};
