// Envoy: `envoy -c /etc/envoy/envoy.yaml`, one container port per listener plus the stats port
// (/stats/prometheus and /ready, routed to the admin interface that only listens on 127.0.0.1).
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { GatewayModel } from '../../model/types.js';
import type { MountedConfig } from './config-maps.js';
import { deployment } from './deployment.js';
import type { Container } from './k8s-types.js';
import { objectName, selectorLabels } from './labels.js';
import { containerSecurityContext, podSpec, resources, tmpMount, tmpVolume } from './pod.js';
import type { PortPlan } from './ports.js';

/** Seconds a stopping pod keeps serving after it left the Service endpoints, before SIGTERM. */
export const envoyDrainSeconds = 15;

export function envoyDeployment(model: GatewayModel, config: MountedConfig, ports: PortPlan): IDeployment {
  const container: Container = {
    name: 'envoy',
    image: model.kubernetes.images.envoy,
    imagePullPolicy: 'IfNotPresent',
    command: ['envoy'],
    args: ['-c', `${config.dir}/${config.file}`, '--disable-hot-restart'],
    ports: [
      ...ports.envoy.listeners.map((l) => ({ name: l.name, containerPort: l.port, protocol: 'TCP' as const })),
      { name: 'stats', containerPort: ports.envoy.stats, protocol: 'TCP' },
    ],
    readinessProbe: {
      httpGet: { path: '/ready', port: 'stats' },
      periodSeconds: 5,
      failureThreshold: 2,
      timeoutSeconds: 2,
    },
    livenessProbe: {
      tcpSocket: { port: 'stats' },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      failureThreshold: 3,
      timeoutSeconds: 2,
    },
    // Envoy exits at SIGTERM: keep it serving while the endpoint removal spreads.
    lifecycle: { preStop: { exec: { command: ['sleep', String(envoyDrainSeconds)] } } },
    resources: resources(model, 'envoy'),
    securityContext: containerSecurityContext,
    volumeMounts: [{ name: 'config', mountPath: config.dir, readOnly: true }, tmpMount],
  };
  return deployment(model, 'envoy', {
    replicas: model.services.envoy.replicas,
    config: config.content,
    pod: podSpec('envoy', {
      serviceAccount: objectName(model, 'envoy'),
      selector: selectorLabels(model, 'envoy'),
      containers: [container],
      volumes: [{ name: 'config', configMap: { name: config.configMap } }, tmpVolume],
      terminationGracePeriodSeconds: envoyDrainSeconds + 15,
      spread: true,
    }),
  });
}
