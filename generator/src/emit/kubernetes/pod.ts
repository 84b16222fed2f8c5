// What every generated pod shares: non-root, read-only root file system, no capabilities, the
// runtime's seccomp profile, no service-account token, requests from gateway.yaml (memory limit =
// request, no CPU limit), spread over nodes and zones, and a checksum of its config so that a
// config change rolls the pods.
import { createHash } from 'node:crypto';
import type { GatewayModel } from '../../model/types.js';
import type { Container, PodSpec, Volume, VolumeMount } from './k8s-types.js';
import { type Part, parts } from './labels.js';

/** Envoy's image runs as the `envoy` user (101); this project's images as 1000; Redis as 999. */
export const runAsUser: Record<Part, number> = { envoy: 101, 'ext-authz': 1000, ratelimit: 1000, redis: 999 };

export const checksumAnnotation = 'checksum/config';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function resources(model: GatewayModel, part: Part): NonNullable<Container['resources']> {
  const r = model.kubernetes.resources[parts[part].component];
  return { requests: { cpu: r.cpu, memory: r.memory }, limits: { memory: r.memory } };
}

export const containerSecurityContext: NonNullable<Container['securityContext']> = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

export const tmpVolume: Volume = { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } };
export const tmpMount: VolumeMount = { name: 'tmp', mountPath: '/tmp' };

/** The pod-level part of a spec; `containers` and `volumes` come from the part. */
export function podSpec(
  part: Part,
  opts: {
    serviceAccount: string;
    selector: Record<string, string>;
    containers: Container[];
    volumes: Volume[];
    terminationGracePeriodSeconds: number;
    /** Spread replicas over nodes and zones (not for a single Redis). */
    spread: boolean;
  },
): PodSpec {
  const uid = runAsUser[part];
  const lowPorts = opts.containers.some((c) => (c.ports ?? []).some((p) => p.containerPort < 1024));
  const spread: Partial<PodSpec> = opts.spread
    ? {
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 100,
                podAffinityTerm: {
                  topologyKey: 'kubernetes.io/hostname',
                  labelSelector: { matchLabels: opts.selector },
                },
              },
            ],
          },
        },
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: opts.selector },
          },
        ],
      }
    : {};
  return {
    serviceAccountName: opts.serviceAccount,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: uid,
      fsGroup: uid,
      seccompProfile: { type: 'RuntimeDefault' },
      // A non-root process may bind a port under 1024 only with this (namespaced, "safe") sysctl.
      ...(lowPorts ? { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] } : {}),
    },
    terminationGracePeriodSeconds: opts.terminationGracePeriodSeconds,
    ...spread,
    containers: opts.containers,
    volumes: opts.volumes,
  };
}
