// One Ingress per Kong route (ingressClassName kong): path and pathType, the listener's hosts, the
// backend's Service (named as in manifests/backend-services.yaml), and the rest of the match and the
// route's plugins as Kong Ingress Controller annotations.
import type { GatewayModel } from '../../model/types.js';
import { ingressBackend } from './backend-services.js';
import { ingressHosts, ingressPath, kongHeaders, regexPriority } from './match.js';
import { ingressClass, managedLabels } from './names.js';
import type { Json, KongRoute } from './types.js';

export function ingressDocs(model: GatewayModel, routes: KongRoute[]): Json[] {
  return routes.flatMap((k) => {
    const r = k.route;
    const service = ingressBackend(model, k.backend);
    if (!service) return [];
    const annotations: Record<string, string> = {
      'konghq.com/plugins': k.plugins.map((p) => p.name).join(','),
      'konghq.com/strip-path': 'false',
      'konghq.com/preserve-host': 'false',
    };
    if (r.match.methods?.length) annotations['konghq.com/methods'] = r.match.methods.join(',');
    for (const [name, values] of Object.entries(kongHeaders(r).headers)) {
      annotations[`konghq.com/headers.${name}`] = values.join(',');
    }
    const priority = regexPriority(r, model);
    if (priority !== undefined) annotations['konghq.com/regex-priority'] = String(priority);
    if (r.streaming) annotations['konghq.com/response-buffering'] = 'false';
    const listener = model.listeners.find((l) => l.name === r.listener)!;
    const http = {
      paths: [
        {
          ...ingressPath(r.match.path),
          backend: {
            service: { name: service.name, port: { number: service.port } },
          },
        },
      ],
    };
    const hosts = ingressHosts(listener);
    return {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: k.name, namespace: model.namespace, labels: managedLabels(model.name), annotations },
      spec: {
        ingressClassName: ingressClass,
        rules: hosts.length ? hosts.map((host) => ({ host, http })) : [{ http }],
      },
    };
  });
}
