// The whole Envoy v3 bootstrap: static listeners and clusters, admin on loopback only.
import type { GatewayModel } from '../../model/types.js';
import { clusters } from './clusters.js';
import { listeners } from './listeners.js';
import type { Json } from './type-urls.js';

export function envoyBootstrap(model: GatewayModel): Json {
  return {
    node: { id: `${model.name}-envoy`, cluster: model.name },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: model.services.envoy.adminPort } } },
    static_resources: { listeners: listeners(model), clusters: clusters(model) },
    layered_runtime: {
      layers: [{ name: 'static', static_layer: { 'overload.global_downstream_max_connections': 50000 } }],
    },
  };
}
