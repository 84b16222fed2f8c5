// Ingress network policies: nothing reaches a pod of the namespace unless a policy allows it.
// Envoy's listeners are open; its stats port only to the monitoring namespace. Only Envoy calls
// ext-authz's gRPC port; only Envoy (and ext-authz, which charges token quotas) calls the rate-limit
// service; only the rate-limit service reaches Redis. ext-authz's HTTP port (/check for ingress-nginx's
// auth-url, and /metrics) is open to the ingress controller's and the monitoring namespace.
// Namespaces are picked by labels the operator sets (docs/kubernetes.md).
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type { GatewayModel } from '../../model/types.js';
import {
  gatewayLabels,
  metadata,
  objectName,
  type Part,
  partLabels,
  selectorLabels,
  serviceNameOfHost,
} from './labels.js';
import type { PortPlan } from './ports.js';
import { redisEndpoints } from './redis-url.js';

/** Label of the namespace Prometheus runs in. */
export const monitoringNamespaceLabel = { key: 'ai-gateway-kit/monitoring', value: 'true' };
/** Label of the namespace of the ingress controller that calls ext-authz's /check (auth-url). */
export const ingressNamespaceLabel = { key: 'ai-gateway-kit/ingress-controller', value: 'true' };

type Rule = NonNullable<NonNullable<INetworkPolicy['spec']>['ingress']>[number];
type Peer = NonNullable<Rule['from']>[number];

const tcp = (...ports: number[]): NonNullable<Rule['ports']> =>
  ports.map((port) => ({ protocol: 'TCP' as const, port }));
const pods = (model: GatewayModel, part: Part): Peer => ({ podSelector: { matchLabels: selectorLabels(model, part) } });
const namespaces = (label: { key: string; value: string }): Peer => ({
  namespaceSelector: { matchLabels: { [label.key]: label.value } },
});

function policy(model: GatewayModel, name: string, part: Part | undefined, ingress: Rule[]): INetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(model, name, part ? partLabels(model, part) : gatewayLabels(model)),
    spec: {
      podSelector: part ? { matchLabels: selectorLabels(model, part) } : {},
      policyTypes: ['Ingress'],
      ingress,
    },
  };
}

/** Whether ext-authz calls the rate-limit service itself (it charges token quotas). */
export function extAuthzChargesTokens(model: GatewayModel): boolean {
  return model.limits.some((l) => l.kind === 'tokens');
}

export function networkPolicies(model: GatewayModel, ports: PortPlan): INetworkPolicy[] {
  const monitoring = namespaces(monitoringNamespaceLabel);
  const out: INetworkPolicy[] = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: metadata(model, `${model.name}-default-deny-ingress`, gatewayLabels(model)),
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    },
    policy(model, objectName(model, 'envoy'), 'envoy', [
      { ports: tcp(...ports.envoy.listeners.map((l) => l.port)) },
      { from: [monitoring], ports: tcp(ports.envoy.stats) },
    ]),
    policy(model, objectName(model, 'ext-authz'), 'ext-authz', [
      { from: [pods(model, 'envoy')], ports: tcp(ports.extAuthz.grpc) },
      { from: [namespaces(ingressNamespaceLabel), monitoring], ports: tcp(ports.extAuthz.http) },
    ]),
    policy(model, objectName(model, 'ratelimit'), 'ratelimit', [
      {
        from: [pods(model, 'envoy'), ...(extAuthzChargesTokens(model) ? [pods(model, 'ext-authz')] : [])],
        ports: tcp(ports.ratelimit.grpc),
      },
      { from: [monitoring], ports: tcp(ports.ratelimit.http) },
    ]),
  ];
  if (model.services.redis.inCluster) {
    out.push(
      policy(model, objectName(model, 'redis'), 'redis', [
        { from: [pods(model, 'ratelimit')], ports: tcp(ports.redis) },
      ]),
    );
  } else {
    // A Redis of gateway.yaml that runs in this namespace is behind the default deny too: let the
    // rate-limit service reach its port (its pods' labels are unknown here).
    const local = redisEndpoints(model).filter((e) => serviceNameOfHost(e.host, model.namespace));
    const localPorts = [...new Set(local.map((e) => e.port))].sort((a, b) => a - b);
    if (localPorts.length) {
      out.push(
        policy(model, `${model.name}-redis-from-ratelimit`, undefined, [
          { from: [pods(model, 'ratelimit')], ports: tcp(...localPorts) },
        ]),
      );
    }
  }
  return out;
}
