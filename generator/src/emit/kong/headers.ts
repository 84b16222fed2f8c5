// What a backend must never see, as Envoy does it: the client's own credential headers and every
// header only the gateway may set (x-aigw-*). Kong's request-transformer removes them on every route.
import type { GatewayModel } from '../../model/types.js';
import { reservedHeaders } from '../envoy/reserved-headers.js';
import { clientCredentialHeaders, kongNames } from './names.js';
import type { PluginInstance } from './types.js';

export function stripHeadersPlugin(model: GatewayModel): PluginInstance {
  return {
    name: kongNames.plugin(model.name, 'strip-headers'),
    plugin: 'request-transformer',
    config: { remove: { headers: [...new Set([...clientCredentialHeaders, ...reservedHeaders(model)])] } },
  };
}
