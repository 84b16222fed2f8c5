// gateway.yaml → every output, with every deployment target loaded up front (tests, `gen up`,
// `gen diff`, …). `gen build` uses compile-pipeline.ts with only the targets the gateway asks for.
import { type CompileOptions, type CompileResult, compileModel, gatewayModel } from './compile-pipeline.js';
import type { GatewaySource } from './config/source.js';
import { target as gatewayApi } from './emit/gateway-api/target.js';
import { target as ingressNginx } from './emit/ingress/target.js';
import { target as kong } from './emit/kong/target.js';
import { target as kubernetes } from './emit/kubernetes/target.js';
import type { DeploymentTargets } from './emit/target.js';

export { type CompileOptions, type CompileResult, outputFiles } from './compile-pipeline.js';

const everyTarget: DeploymentTargets = { kubernetes, 'ingress-nginx': ingressNginx, 'gateway-api': gatewayApi, kong };

export function compileGateway(src: GatewaySource, options: CompileOptions = {}): CompileResult {
  return compileModel(src, gatewayModel(src, options), everyTarget);
}
