// Loads only the deployment targets a gateway asks for: each pulls in its emitter and its
// validator (kubernetes-models, Kong's schemas), which `gen build` need not load otherwise.
import type { DeploymentOutput } from '../model/types.js';
import type { DeploymentTarget, DeploymentTargets } from './target.js';

const loaders: Record<DeploymentOutput, () => Promise<{ target: DeploymentTarget }>> = {
  kubernetes: () => import('./kubernetes/target.js'),
  'ingress-nginx': () => import('./ingress/target.js'),
  'gateway-api': () => import('./gateway-api/target.js'),
  kong: () => import('./kong/target.js'),
};

export async function loadDeploymentTargets(outputs: readonly DeploymentOutput[]): Promise<DeploymentTargets> {
  const loaded = await Promise.all(outputs.map(async (o) => [o, (await loaders[o]()).target] as const));
  return Object.fromEntries(loaded);
}
