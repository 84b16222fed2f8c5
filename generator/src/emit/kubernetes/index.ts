// The Kubernetes target: manifests/*.yaml (multi-document YAML) and manifests/README.md for one
// gateway. Deterministic (same model and configs, same bytes) and free of secret values: Secrets
// are referenced by name and created by the operator (secretCommands).
import type { GatewayModel } from '../../model/types.js';
import { toYamlDocuments } from '../../output-yaml.js';
import { generatedHeader, type RenderedConfigs, type TargetOutput } from '../target.js';
import { configMap, configMapLimitBytes, mountedConfigs } from './config-maps.js';
import { envoyDeployment } from './envoy-deployment.js';
import { extAuthzDeployment } from './ext-authz-deployment.js';
import { autoscaler } from './hpa.js';
import { serviceNames } from './labels.js';
import { monitoringObjects } from './monitoring.js';
import { namespace } from './namespace.js';
import { extAuthzChargesTokens, networkPolicies } from './network-policies.js';
import { operatorInputWarnings } from './operator-inputs.js';
import { disruptionBudget } from './pdb.js';
import { portPlan } from './ports.js';
import { ratelimitDeployment } from './ratelimit-deployment.js';
import { manifestsReadme } from './readme.js';
import { redisObjects } from './redis.js';
import { redisUrl } from './redis-url.js';
import { quotaWarnings, resourceQuota } from './resource-quota.js';
import { serviceAccount } from './service-account.js';
import { envoyService, extAuthzService, ratelimitService } from './services.js';

export { secretCommands } from './secrets-needed.js';

export const manifestsDir = 'manifests';

export function emitManifests(model: GatewayModel, configs: RenderedConfigs, source: string): TargetOutput {
  const names = serviceNames(model);
  const ports = portPlan(model);
  const cfg = mountedConfigs(model, configs);
  const s = model.services;
  const ratelimitAddress = extAuthzChargesTokens(model) ? `${s.ratelimit.host}:${s.ratelimit.port}` : undefined;

  const docs: [file: string, what: string, objects: unknown[]][] = [
    ['namespace.yaml', `Namespace of gateway ${model.name}.`, [namespace(model)]],
    [
      'envoy.yaml',
      'Envoy: ServiceAccount, ConfigMap (envoy.yaml), Service, Deployment, HorizontalPodAutoscaler, PodDisruptionBudget.',
      [
        serviceAccount(model, 'envoy'),
        configMap(model, cfg.envoy),
        envoyService(model, names, ports),
        envoyDeployment(model, cfg.envoy, ports),
        autoscaler(model, 'envoy', s.envoy.replicas),
        disruptionBudget(model, 'envoy'),
      ],
    ],
    [
      'ext-authz.yaml',
      'ext-authz: ServiceAccount, ConfigMap (policy.yaml), Service, Deployment, HorizontalPodAutoscaler, PodDisruptionBudget. Credentials are Secret references, never values.',
      [
        serviceAccount(model, 'ext-authz'),
        configMap(model, cfg.extAuthz),
        extAuthzService(model, names, ports),
        extAuthzDeployment(model, cfg.extAuthz, ports, ratelimitAddress),
        autoscaler(model, 'ext-authz', s.extAuthz.replicas),
        disruptionBudget(model, 'ext-authz'),
      ],
    ],
    [
      'ratelimit.yaml',
      'Rate-limit service: ServiceAccount, ConfigMap (config.yaml), Service, Deployment, HorizontalPodAutoscaler, PodDisruptionBudget.',
      [
        serviceAccount(model, 'ratelimit'),
        configMap(model, cfg.ratelimit),
        ratelimitService(model, names, ports),
        ratelimitDeployment(model, cfg.ratelimit, ports, redisUrl(model, names, ports)),
        autoscaler(model, 'ratelimit', s.ratelimit.replicas),
        disruptionBudget(model, 'ratelimit'),
      ],
    ],
    [
      'network-policies.yaml',
      'NetworkPolicies: default deny, then who may reach each part.',
      networkPolicies(model, ports),
    ],
    [
      'monitoring.yaml',
      'Prometheus Operator: ServiceMonitors and alert rules (needs the monitoring.coreos.com CRDs).',
      monitoringObjects(model, names),
    ],
  ];
  if (s.redis.inCluster) {
    docs.push([
      'redis.yaml',
      'In-cluster Redis for the rate-limit counters (no persistence).',
      redisObjects(model, names, ports),
    ]);
  }
  const quota = resourceQuota(model);
  if (quota) docs.push(['resource-quota.yaml', `ResourceQuota of namespace ${model.namespace}.`, [quota]]);

  const files = new Map<string, string>();
  for (const [file, what, objects] of docs) {
    files.set(`${manifestsDir}/${file}`, toYamlDocuments(objects, generatedHeader(what, source)));
  }
  const yamlFiles = [...files.keys()].sort();
  files.set(`${manifestsDir}/README.md`, manifestsReadme(model, source, yamlFiles));

  const warnings = [...names.warnings, ...operatorInputWarnings(model), ...quotaWarnings(model)];
  for (const c of Object.values(cfg)) {
    const bytes = Buffer.byteLength(c.content);
    if (bytes > configMapLimitBytes) {
      warnings.push(
        `manifests: ConfigMap ${c.configMap} holds ${bytes} bytes, more than Kubernetes stores (${configMapLimitBytes})`,
      );
    }
  }
  return { files: new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), warnings };
}
