// Which deployment outputs gen build writes (gateway.yaml `outputs`, default all).
import type { RawGateway } from './raw.js';
import { type DeploymentOutput, deploymentOutputs } from './types.js';

/** The outputs asked for, in a fixed order; the Ingress and Gateway API objects need the rest of manifests/. */
export function buildOutputs(raw: RawGateway): DeploymentOutput[] {
  const asked = new Set<DeploymentOutput>(raw.outputs ?? deploymentOutputs);
  if (asked.has('ingress-nginx') || asked.has('gateway-api')) asked.add('kubernetes');
  return deploymentOutputs.filter((o) => asked.has(o));
}
