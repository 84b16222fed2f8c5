// Plugins on every request (KongClusterPlugin with the `global` label; top-level in decK): a
// request id like Envoy's x-request-id, and Prometheus metrics.
import type { GatewayModel } from '../../model/types.js';
import { kongNames } from './names.js';
import type { PluginInstance } from './types.js';

export function globalPlugins(model: GatewayModel, usesAiProxy: boolean): PluginInstance[] {
  return [
    {
      name: kongNames.plugin(model.name, 'correlation-id'),
      plugin: 'correlation-id',
      config: { header_name: 'x-request-id', generator: 'uuid', echo_downstream: true },
    },
    {
      name: kongNames.plugin(model.name, 'prometheus'),
      plugin: 'prometheus',
      config: {
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        upstream_health_metrics: true,
        per_consumer: true,
        ...(usesAiProxy ? { ai_metrics: true } : {}),
      },
    },
  ];
}
