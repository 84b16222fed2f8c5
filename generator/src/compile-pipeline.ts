// The whole pipeline in memory: gateway.yaml → schema → model → every output → strict
// validation of every output and of their cross-references. Nothing touches the disk here (an
// `onFile` callback may: gen build writes each file into a staging folder as it comes).
// The deployment targets (Kubernetes, Ingress, Gateway API, Kong) come in as an argument, so that
// `gen build` loads only the ones the gateway's `outputs:` asks for (compile.ts: all of them).
import path from 'node:path';
import { checkSchema } from './config/schema-check.js';
import type { GatewaySource } from './config/source.js';
import { authzPolicy } from './emit/authz/policy.js';
import { envoyBootstrap } from './emit/envoy/bootstrap.js';
import { secretCommands } from './emit/kubernetes/secrets-needed.js';
import { ratelimitConfig } from './emit/ratelimit/config.js';
import { type DeploymentTargets, generatedHeader } from './emit/target.js';
import { loadDeploymentTargets } from './emit/targets.js';
import { type Diagnostic, GatewayError } from './errors.js';
import { buildModel } from './model/build.js';
import type { GatewayModel } from './model/types.js';
import { toYaml } from './output-yaml.js';
import { crossReferences } from './validate/cross-refs.js';
import { validateEnvoyBootstrap } from './validate/envoy.js';
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

/** gateway.yaml's model, or a GatewayError with the problems in the order of the file. */
export function gatewayModel(src: GatewaySource, options: CompileOptions = {}): GatewayModel {
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
  return model;
}

/** Every output of the model: the service configs, and what `targets` make of `model.outputs`. */
export function compileModel(
  src: GatewaySource,
  model: GatewayModel,
  targets: DeploymentTargets,
  /** Told each output file once it is rendered (validation may still fail after: see StagedOutput). */
  onFile?: (rel: string, content: string) => void,
): CompileResult {
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
  if (onFile) for (const [k, v] of files) onFile(k, v);
  // Targets that ship the service configs (Kubernetes) or translate the model for other proxies.
  const configs = {
    envoy: files.get(outputFiles.envoy)!,
    ratelimit: files.get(outputFiles.ratelimit)!,
    policy: files.get(outputFiles.policy)!,
  };
  const warnings: string[] = [];
  // Only the deployment outputs the gateway file asks for (default: all).
  const asked = model.outputs.map((o) => {
    const target = targets[o];
    if (!target) throw new Error(`internal: the ${o} target is not loaded`);
    return target;
  });
  const targetFiles = new Map<string, string>();
  for (const target of asked) {
    const out = target.emit(model, configs, source);
    for (const [k, v] of out.files) targetFiles.set(k, v);
    warnings.push(...out.warnings);
  }
  for (const [k, v] of targetFiles) {
    files.set(k, v);
    onFile?.(k, v);
  }
  // Each validator once (the Ingress and Gateway API outputs share theirs), in the targets' order.
  const targetProblems = [...new Set(asked.map((t) => t.validate))].flatMap((validate) => validate(files, model));
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

/** compileModel with only the targets the gateway's `outputs:` names loaded (`gen build`, `gen validate`). */
export async function compileGatewayLoadingTargets(
  src: GatewaySource,
  options: CompileOptions = {},
  onFile?: (rel: string, content: string) => void,
): Promise<CompileResult> {
  const model = gatewayModel(src, options);
  return compileModel(src, model, await loadDeploymentTargets(model.outputs), onFile);
}
