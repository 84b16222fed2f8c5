// Prometheus Operator objects: one ServiceMonitor per part (Envoy's /stats/prometheus on its stats
// port, /metrics on the HTTP port of ext-authz and the rate-limit service) and the alert rules.
import type { IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { GatewayModel } from '../../model/types.js';
import { alertRules } from './alert-rules.js';
import { metadata, objectName, type Part, partLabels, type ServiceNames, selectorLabels } from './labels.js';

export const scrapeInterval = '30s';

function serviceMonitor(model: GatewayModel, part: Part, port: string, path: string): IServiceMonitor {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: metadata(model, objectName(model, part), partLabels(model, part)),
    spec: {
      selector: { matchLabels: selectorLabels(model, part) },
      namespaceSelector: { matchNames: [model.namespace] },
      endpoints: [{ port, path, interval: scrapeInterval, scheme: 'http' }],
    },
  };
}

export function monitoringObjects(model: GatewayModel, names: ServiceNames): unknown[] {
  return [
    serviceMonitor(model, 'envoy', 'stats', '/stats/prometheus'),
    serviceMonitor(model, 'ext-authz', 'http', '/metrics'),
    serviceMonitor(model, 'ratelimit', 'http', '/metrics'),
    alertRules(model, names),
  ];
}
