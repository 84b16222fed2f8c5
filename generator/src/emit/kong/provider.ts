// Provider keys. Kong's ai-proxy takes the upstream auth header from a vault reference
// (auth.header_value is referenceable), so no key is ever written; request-transformer's
// add.headers is not referenceable, so it would need the key in plain text and is not used for
// it. ai-proxy fits a route that is one OpenAI API operation (chat or completions) on an
// openai-compatible or anthropic backend; elsewhere the key is a gap.
import type { Backend, Route } from '../../model/types.js';
import { backendUrl } from './backends.js';
import { kongNames, vaultNames } from './names.js';
import type { Gap, Json, KongRoute, PluginInstance } from './types.js';

/** OpenAI-format paths Kong's ai-proxy understands (route_type). */
const routeTypes: Record<string, string> = {
  '/v1/chat/completions': 'llm/v1/chat',
  '/v1/completions': 'llm/v1/completions',
};

/** The Anthropic Messages API version ai-proxy asks for (it requires one). */
export const anthropicVersion = '2023-06-01';

function routeType(r: Route, b: Backend): string | undefined {
  if (b.kind === 'http' || r.match.path.kind !== 'exact') return undefined;
  const type = routeTypes[r.match.path.value];
  // Kong turns OpenAI chat requests into Anthropic Messages; nothing else is asked of an anthropic backend.
  return b.kind === 'anthropic' && type !== 'llm/v1/chat' ? undefined : type;
}

export function providerPlugin(gateway: string, k: KongRoute): { plugin?: PluginInstance; gaps: Gap[] } {
  const b = k.backend;
  if (!b.credential) return { gaps: [] };
  const type = routeType(k.route, b);
  if (!type) {
    return {
      gaps: [
        {
          route: k.route.name,
          feature: 'provider key injection',
          why: `ai-proxy only fits an exact ${Object.keys(routeTypes).join(' or ')} route to an openai-compatible backend (${Object.keys(routeTypes)[0]} to an anthropic one), and request-transformer cannot take a vault reference (the key would be plain text in its config): requests reach ${b.name} without its key; split the route per API operation, or let ${b.name} accept requests without it`,
        },
      ],
    };
  }
  const upstream = b.kind === 'anthropic' ? '/v1/messages' : k.route.match.path.value;
  const options: Json = { upstream_url: `${backendUrl(b)}${upstream}` };
  if (b.kind === 'anthropic') options.anthropic_version = anthropicVersion;
  return {
    plugin: {
      name: kongNames.plugin(gateway, k.route.name, 'ai-proxy'),
      plugin: 'ai-proxy',
      config: {
        route_type: type,
        model: { provider: b.kind === 'anthropic' ? 'anthropic' : 'openai', options },
        auth: { header_name: b.credential.header, header_value: vaultNames.credential(b.name).reference },
      },
    },
    gaps: [],
  };
}
