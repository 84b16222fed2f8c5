// The rate-limit service: its config directory from a ConfigMap (hot reloaded), the Redis URL,
// the Redis password from its Secret, and --replicas so that with `when_down: local` each replica
// enforces its share of a limit. Its Redis timeout is half of Envoy's timeout for the call, so
// that a slow Redis is answered by the failure mode (when_down) before Envoy gives up (on_error).
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { GatewayModel } from '../../model/types.js';
import type { MountedConfig } from './config-maps.js';
import { deployment, serviceProbes } from './deployment.js';
import type { Container } from './k8s-types.js';
import { objectName, selectorLabels } from './labels.js';
import { containerSecurityContext, podSpec, resources, tmpMount, tmpVolume } from './pod.js';
import type { PortPlan } from './ports.js';
import { redisPasswordSecret } from './secrets-needed.js';
import { workersArgs } from './workers.js';

export const redisPasswordEnv = 'REDIS_PASSWORD';

export function redisTimeoutMs(model: GatewayModel): number {
  return Math.max(5, Math.floor(model.services.ratelimit.timeoutMs / 2));
}

export function ratelimitDeployment(
  model: GatewayModel,
  config: MountedConfig,
  ports: PortPlan,
  redisUrl: string,
): IDeployment {
  const s = model.services.ratelimit;
  const password = redisPasswordSecret(model);
  const container: Container = {
    name: 'ratelimit',
    image: model.kubernetes.images.ratelimit,
    imagePullPolicy: 'IfNotPresent',
    args: [
      '--config',
      config.dir,
      '--grpc-port',
      String(ports.ratelimit.grpc),
      '--http-port',
      String(ports.ratelimit.http),
      '--replicas',
      String(s.replicas),
      '--redis-timeout-ms',
      String(redisTimeoutMs(model)),
      ...workersArgs(model.kubernetes.resources.ratelimit.cpu),
    ],
    env: [
      { name: 'REDIS_URL', value: redisUrl },
      ...(password
        ? [{ name: redisPasswordEnv, valueFrom: { secretKeyRef: { name: password.name, key: password.key } } }]
        : []),
    ],
    ports: [
      { name: 'grpc', containerPort: ports.ratelimit.grpc, protocol: 'TCP' },
      { name: 'http', containerPort: ports.ratelimit.http, protocol: 'TCP' },
    ],
    ...serviceProbes,
    resources: resources(model, 'ratelimit'),
    securityContext: containerSecurityContext,
    volumeMounts: [{ name: 'config', mountPath: config.dir, readOnly: true }, tmpMount],
  };
  return deployment(model, 'ratelimit', {
    replicas: s.replicas,
    config: config.content,
    pod: podSpec('ratelimit', {
      serviceAccount: objectName(model, 'ratelimit'),
      selector: selectorLabels(model, 'ratelimit'),
      containers: [container],
      volumes: [{ name: 'config', configMap: { name: config.configMap } }, tmpVolume],
      terminationGracePeriodSeconds: 30,
      spread: true,
    }),
  });
}
