// The whole pipeline in memory: gateway.yaml → schema → model → every output → strict
// validation of every output and of their cross-references. Nothing touches the disk here.
import path from 'node:path';
import { checkSchema } from './config/schema-check.js';
import type { GatewaySource } from './config/source.js';
import { authzPolicy } from './emit/authz/policy.js';
import { envoyBootstrap } from './emit/envoy/bootstrap.js';
import { emitGatewayApi } from './emit/gateway-api/gateway-api.js';
import { existingBackendServices } from './emit/ingress/backend-services.js';
import { emitIngressNginx } from './emit/ingress/ingress-nginx.js';
import { emitKong } from './emit/kong/index.js';
import { emitManifests, secretCommands } from './emit/kubernetes/index.js';
import { ratelimitConfig } from './emit/ratelimit/config.js';
import { generatedHeader } from './emit/target.js';
import { type Diagnostic, GatewayError } from './errors.js';
import { buildModel } from './model/build.js';
import type { GatewayModel } from './model/types.js';
import { toYaml } from './output-yaml.js';
import { crossReferences } from './validate/cross-refs.js';
import { validateEnvoyBootstrap } from './validate/envoy.js';
import { validateIngressAndGatewayApi } from './validate/gateway-api.js';
import { validateKong } from './validate/kong.js';
import { validateManifests } from './validate/kubernetes.js';
import { formatProblem } from './validate/problem.js';

export const outputFiles = {
  envoy: 'envoy/envoy.yaml',
  ratelimit: 'ratelimit/config.yaml',
  policy: 'ext-authz/policy.yaml',
} as const;

export interface CompileResult {
  model: GatewayModel;
  /** What some target cannot express, said by gen build (never dropped silently). */
  warnings: string[];
  /** The `kubectl create secret` lines the manifests expect (placeholders, never values). */
  secretCommands: string[];
  /** Output path (relative to the output folder) → file content, sorted by path. */
  files: Map<string, string>;
}

const byPosition = (a: Diagnostic, b: Diagnostic) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);

export interface CompileOptions {
  /** Where Envoy finds the two services, instead of their in-cluster names (e.g. for `gen up`). */
  serviceAddresses?: { extAuthz?: { host: string; port: number }; ratelimit?: { host: string; port: number } };
}

export function compileGateway(src: GatewaySource, options: CompileOptions = {}): CompileResult {
  const schemaProblems = checkSchema(src);
  if (schemaProblems.length) throw new GatewayError(schemaProblems.sort(byPosition));
  let model: GatewayModel;
  try {
    model = buildModel(src);
  } catch (e) {
    if (e instanceof GatewayError) throw new GatewayError([...e.diagnostics].sort(byPosition));
    throw e;
  }
  if (options.serviceAddresses?.extAuthz) Object.assign(model.services.extAuthz, options.serviceAddresses.extAuthz);
  if (options.serviceAddresses?.ratelimit) Object.assign(model.services.ratelimit, options.serviceAddresses.ratelimit);
  const docs = {
    envoy: envoyBootstrap(model),
    ratelimit: ratelimitConfig(model),
    policy: authzPolicy(model),
  };
  const problems = [
    // The strict walk always; protobuf-es's reader as a second opinion up to 2,000 routes.
    ...validateEnvoyBootstrap(docs.envoy, outputFiles.envoy, { crossCheck: model.routes.length <= 2000 }),
    ...crossReferences({
      envoy: { file: outputFiles.envoy, doc: docs.envoy },
      ratelimit: { file: outputFiles.ratelimit, doc: docs.ratelimit },
      policy: { file: outputFiles.policy, doc: docs.policy },
    }),
  ];
  if (problems.length) {
    throw new GatewayError(problems.map((p) => ({ file: src.file, message: `generated ${formatProblem(p)}` })));
  }
  const source = path.basename(src.file);
  const header = (what: string) => generatedHeader(what, source);
  const files = new Map<string, string>([
    [outputFiles.envoy, toYaml(docs.envoy, header('Envoy v3 bootstrap.'))],
    [
      outputFiles.policy,
      toYaml(
        docs.policy,
        header('ext-authz policy: identities, route policies, credential references (never values).'),
      ),
    ],
    [outputFiles.ratelimit, toYaml(docs.ratelimit, header('Rate-limit service config (envoyproxy/ratelimit format).'))],
  ]);
  // Targets that ship the service configs (Kubernetes) or translate the model for other proxies.
  const configs = {
    envoy: files.get(outputFiles.envoy)!,
    ratelimit: files.get(outputFiles.ratelimit)!,
    policy: files.get(outputFiles.policy)!,
  };
  const warnings: string[] = [];
  // Only the deployment outputs the gateway file asks for (default: all).
  const emitters = {
    kubernetes: () => emitManifests(model, configs, source),
    'ingress-nginx': () => emitIngressNginx(model, source),
    'gateway-api': () => emitGatewayApi(model, source),
    kong: () => emitKong(model, source),
  };
  const targets = model.outputs.map((o) => emitters[o]());
  for (const target of targets) {
    for (const [k, v] of target.files) files.set(k, v);
    warnings.push(...target.warnings);
  }
  const targetProblems = [
    ...validateManifests(files),
    ...validateIngressAndGatewayApi(files, existingBackendServices(model)),
    ...validateKong(files),
  ];
  if (targetProblems.length) {
    throw new GatewayError(targetProblems.map((p) => ({ file: src.file, message: `generated ${formatProblem(p)}` })));
  }
  return {
    model,
    files: new Map([...files].sort(([a], [b]) => a.localeCompare(b))),
    warnings,
    secretCommands: secretCommands(model),
  };
}
