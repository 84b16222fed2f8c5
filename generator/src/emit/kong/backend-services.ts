// The Kubernetes Services the Kong Ingress objects send to. Names and targets come from the
// shared helper of the ingress outputs (emit/ingress/backend-services.ts), so Kong names exactly
// the Services of manifests/backend-services.yaml: an existing Service in the gateway's namespace is
// referenced as it is, any other host gets an ExternalName Service `<gateway>-backend-<name>`.
// kong/backend-services.yaml holds the same objects for the backends Kong routes to, plus the Kong
// Ingress Controller's annotations (protocol, timeouts).
import type { Backend, GatewayModel } from '../../model/types.js';
import { type BackendTarget, backendTarget } from '../ingress/backend-services.js';
import type { ServiceSettings } from './backends.js';
import { managedLabels } from './names.js';
import type { Gap, Json, KongRoute } from './types.js';

/** Kong Ingress Controller annotations of a backend's Service. */
export function kongServiceAnnotations(s: ServiceSettings): Record<string, string> {
  const annotations: Record<string, string> = {
    'konghq.com/protocol': s.backend.scheme,
    'konghq.com/connect-timeout': String(s.connectTimeoutMs),
  };
  if (s.readTimeoutMs !== undefined) {
    annotations['konghq.com/read-timeout'] = String(s.readTimeoutMs);
    annotations['konghq.com/write-timeout'] = String(s.readTimeoutMs);
  }
  return annotations;
}

/** The Service an Ingress names for a backend, or undefined when Kubernetes cannot reach it. */
export function ingressBackend(model: GatewayModel, backend: Backend): { name: string; port: number } | undefined {
  const t = backendTarget(model, backend);
  return t.kind === 'unreachable' ? undefined : { name: t.service, port: t.port };
}

/** Backends the Ingress objects send to, in model order. */
function routedTargets(model: GatewayModel, routes: KongRoute[]): BackendTarget[] {
  const used = new Set(routes.map((k) => k.backend.name));
  return model.backends.filter((b) => used.has(b.name)).map((b) => backendTarget(model, b));
}

export function backendServiceDocs(model: GatewayModel, routes: KongRoute[], services: ServiceSettings[]): Json[] {
  const docs: Json[] = [];
  for (const t of routedTargets(model, routes)) {
    if (t.kind !== 'external-name') continue;
    const b = t.backend;
    const settings = services.find((s) => s.backend.name === b.name)!;
    docs.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: t.service,
        namespace: model.namespace,
        labels: { ...managedLabels(model.name), 'ai-gateway-kit/backend': b.name },
        annotations: {
          'ai-gateway-kit/backend-url': `${b.scheme}://${b.host}:${b.port}`,
          ...kongServiceAnnotations(settings),
        },
      },
      spec: {
        type: 'ExternalName',
        externalName: t.externalName,
        ports: [{ name: b.scheme, protocol: 'TCP', port: t.port, targetPort: t.port }],
      },
    });
  }
  return docs;
}

/** Existing Services the Ingress objects use: the operator adds the Kong annotations to them. */
export function existingServices(
  model: GatewayModel,
  routes: KongRoute[],
  services: ServiceSettings[],
): { service: string; annotations: Record<string, string> }[] {
  return routedTargets(model, routes)
    .filter((t) => t.kind === 'existing')
    .map((t) => ({
      service: t.service,
      annotations: kongServiceAnnotations(services.find((s) => s.backend.name === t.backend.name)!),
    }));
}

/** A route whose backend no Kubernetes Service can point at has no Ingress (kong.yaml keeps it). */
export function unreachableGaps(model: GatewayModel, k: KongRoute): Gap[] {
  const t = backendTarget(model, k.backend);
  if (t.kind !== 'unreachable') return [];
  return [
    {
      route: k.route.name,
      feature: 'Ingress',
      why: `no Kubernetes Service can point at backend ${k.backend.name}: ${t.reason}; kong.yaml keeps the route`,
    },
  ];
}
