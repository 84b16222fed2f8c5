// The in-cluster Redis (only when gateway.yaml names no Redis): one replica, counters only, so no
// persistence (`--save '' --appendonly no`); memory capped below the container's limit, evicting
// the counters nearest to expiry first rather than failing writes.
import type { IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IService } from 'kubernetes-models/v1';
import type { GatewayModel } from '../../model/types.js';
import type { Container } from './k8s-types.js';
import { metadata, objectName, partLabels, type ServiceNames, selectorLabels } from './labels.js';
import { containerSecurityContext, podSpec, resources, tmpMount, tmpVolume } from './pod.js';
import type { PortPlan } from './ports.js';
import { memoryBytes } from './quantity.js';
import { redisPasswordEnv } from './ratelimit-deployment.js';
import { redisPasswordSecret } from './secrets-needed.js';
import { serviceAccount } from './service-account.js';
import { redisService } from './services.js';

/** Share of the memory request Redis may use for data (the rest: buffers, fragmentation). */
const maxMemoryShare = 0.75;

function redisArgs(model: GatewayModel, ports: PortPlan, withPassword: boolean): string[] {
  const args = ['--port', String(ports.redis), '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
  const bytes = memoryBytes(model.kubernetes.resources.redis.memory);
  if (bytes) args.push('--maxmemory', String(Math.floor(bytes * maxMemoryShare)), '--maxmemory-policy', 'volatile-ttl');
  // $(VAR) is expanded by the kubelet from the container's env: the value is in no manifest.
  if (withPassword) args.push('--requirepass', `$(${redisPasswordEnv})`);
  return args;
}

export function redisStatefulSet(model: GatewayModel, names: ServiceNames, ports: PortPlan): IStatefulSet {
  const password = redisPasswordSecret(model);
  const container: Container = {
    name: 'redis',
    image: model.kubernetes.images.redis,
    imagePullPolicy: 'IfNotPresent',
    command: ['redis-server'],
    args: redisArgs(model, ports, password !== undefined),
    ...(password
      ? { env: [{ name: redisPasswordEnv, valueFrom: { secretKeyRef: { name: password.name, key: password.key } } }] }
      : {}),
    ports: [{ name: 'redis', containerPort: ports.redis, protocol: 'TCP' }],
    readinessProbe: { tcpSocket: { port: 'redis' }, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 },
    livenessProbe: {
      tcpSocket: { port: 'redis' },
      initialDelaySeconds: 5,
      periodSeconds: 10,
      failureThreshold: 3,
      timeoutSeconds: 2,
    },
    resources: resources(model, 'redis'),
    securityContext: containerSecurityContext,
    volumeMounts: [{ name: 'data', mountPath: '/data' }, tmpMount],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(model, objectName(model, 'redis'), partLabels(model, 'redis')),
    spec: {
      serviceName: names.redis,
      replicas: 1,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(model, 'redis') },
      template: {
        metadata: { labels: partLabels(model, 'redis') },
        spec: podSpec('redis', {
          serviceAccount: objectName(model, 'redis'),
          selector: selectorLabels(model, 'redis'),
          containers: [container],
          volumes: [{ name: 'data', emptyDir: {} }, tmpVolume],
          terminationGracePeriodSeconds: 10,
          spread: false,
        }),
      },
    },
  };
}

/** manifests/redis.yaml: only when services.redis names no Redis. */
export function redisObjects(
  model: GatewayModel,
  names: ServiceNames,
  ports: PortPlan,
): [ReturnType<typeof serviceAccount>, IService, IStatefulSet] {
  return [serviceAccount(model, 'redis'), redisService(model, names, ports), redisStatefulSet(model, names, ports)];
}
