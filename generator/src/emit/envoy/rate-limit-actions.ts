// The Envoy `rate_limits` entries of a route: one entry per request limit, whose actions build
// the descriptor that the rate-limit config (emit/ratelimit) counts.
import type { Limit, LimitKey, Route } from '../../model/types.js';
import {
  authzMetadataKeys,
  authzMetadataNamespace,
  descriptorKeys,
  limitDescriptorKey,
  missingValue,
} from '../names.js';
import type { Json } from './type-urls.js';

function action(key: LimitKey, route: Route): Json {
  switch (key) {
    case 'ip':
      return { remote_address: {} };
    case 'route':
      return { generic_key: { descriptor_key: descriptorKeys.route, descriptor_value: route.name } };
    default:
      return {
        metadata: {
          descriptor_key: descriptorKeys[key],
          metadata_key: { key: authzMetadataNamespace, path: [{ key: authzMetadataKeys[key] }] },
          default_value: missingValue,
          source: 'DYNAMIC',
        },
      };
  }
}

export function rateLimitActions(route: Route, limits: Map<string, Limit>): Json[] {
  return route.limits
    .map((name) => limits.get(name)!)
    .filter((l) => l.kind === 'requests')
    .map((l) => ({
      actions: [
        { generic_key: { descriptor_key: limitDescriptorKey, descriptor_value: l.name } },
        ...l.per.map((k) => action(k, route)),
      ],
    }));
}
