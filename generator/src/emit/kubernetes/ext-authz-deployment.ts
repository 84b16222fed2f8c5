// ext-authz: the policy from its ConfigMap (hot reloaded), gRPC Check for Envoy, HTTP /check for
// ingress-nginx, probes and metrics on the HTTP port, and every backend credential held in a
// Kubernetes Secret mounted at the path policy.yaml names (secretMountPath), key by key. Mounted
// Secrets are updated in place by the kubelet, and ext-authz re-reads a changed file: a rotated
// key needs no restart. `env:` and `file:` credentials are the operator's to provide.
import path from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { GatewayModel } from '../../model/types.js';
import { secretMountPath } from '../names.js';
import type { MountedConfig } from './config-maps.js';
import { deployment, serviceProbes } from './deployment.js';
import type { Container, Volume, VolumeMount } from './k8s-types.js';
import { objectName, selectorLabels } from './labels.js';
import { containerSecurityContext, podSpec, resources, tmpMount, tmpVolume } from './pod.js';
import type { PortPlan } from './ports.js';
import { backendSecretKeys } from './secrets-needed.js';
import { workersArgs } from './workers.js';

/** Owner and group may read the key files (the pod's fsGroup is the group). */
const secretFileMode = 0o440;

/** One Secret volume per Secret, with only the keys backends use, mounted where policy.yaml says. */
export function credentialVolumes(model: GatewayModel): { volumes: Volume[]; mounts: VolumeMount[] } {
  const bySecret = new Map<string, { dir: string; items: { key: string; path: string }[] }>();
  for (const { secret, key } of backendSecretKeys(model)) {
    const file = secretMountPath(secret, key);
    const dir = path.posix.dirname(file);
    const entry = bySecret.get(secret) ?? { dir, items: [] };
    if (entry.dir !== dir) throw new Error(`secretMountPath puts keys of Secret ${secret} in two folders`);
    entry.items.push({ key, path: path.posix.basename(file) });
    bySecret.set(secret, entry);
  }
  const volumes: Volume[] = [];
  const mounts: VolumeMount[] = [];
  [...bySecret.entries()].forEach(([secret, { dir, items }], i) => {
    const name = `credentials-${i}`;
    volumes.push({ name, secret: { secretName: secret, items, defaultMode: secretFileMode } });
    mounts.push({ name, mountPath: dir, readOnly: true });
  });
  return { volumes, mounts };
}

export function extAuthzDeployment(
  model: GatewayModel,
  config: MountedConfig,
  ports: PortPlan,
  ratelimitAddress: string | undefined,
): IDeployment {
  const credentials = credentialVolumes(model);
  const s = model.services;
  const container: Container = {
    name: 'ext-authz',
    image: model.kubernetes.images.ext_authz,
    imagePullPolicy: 'IfNotPresent',
    args: [
      '--config',
      `${config.dir}/${config.file}`,
      '--grpc-port',
      String(ports.extAuthz.grpc),
      '--http-port',
      String(ports.extAuthz.http),
      '--max-body-bytes',
      String(s.extAuthz.maxBodyBytes),
      ...workersArgs(model.kubernetes.resources.ext_authz.cpu),
      // Token quotas are charged by ext-authz itself, on its estimate.
      ...(ratelimitAddress
        ? ['--ratelimit', ratelimitAddress, '--ratelimit-timeout-ms', String(s.ratelimit.timeoutMs)]
        : []),
    ],
    ports: [
      { name: 'grpc', containerPort: ports.extAuthz.grpc, protocol: 'TCP' },
      { name: 'http', containerPort: ports.extAuthz.http, protocol: 'TCP' },
    ],
    ...serviceProbes,
    resources: resources(model, 'ext-authz'),
    securityContext: containerSecurityContext,
    volumeMounts: [{ name: 'policy', mountPath: config.dir, readOnly: true }, ...credentials.mounts, tmpMount],
  };
  return deployment(model, 'ext-authz', {
    replicas: s.extAuthz.replicas,
    config: config.content,
    pod: podSpec('ext-authz', {
      serviceAccount: objectName(model, 'ext-authz'),
      selector: selectorLabels(model, 'ext-authz'),
      containers: [container],
      volumes: [{ name: 'policy', configMap: { name: config.configMap } }, ...credentials.volumes, tmpVolume],
      terminationGracePeriodSeconds: 30,
      spread: true,
    }),
  });
}
