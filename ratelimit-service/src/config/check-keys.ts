// The first pass over a parsed config file, as envoyproxy/ratelimit does it: every map key at any
// level must be a known one, lists hold only maps, and values are strings, integers, booleans or
// null. (Like upstream, the list of keys is the same at every level.)
import { RateLimitConfigError } from './config-error.js';

export const knownKeys = new Set([
  'domain',
  'key',
  'value',
  'descriptors',
  'rate_limit',
  'unit',
  'requests_per_unit',
  'unlimited',
  'shadow_mode',
  'quota_mode',
  'name',
  'replaces',
  'detailed_metric',
  'value_to_metric',
  'share_threshold',
  'metadata',
  // ai-gateway-kit extensions
  'algorithm',
  'failure_mode',
]);

export function checkKeys(file: string, node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) {
      if (!(item instanceof Map)) {
        throw new RateLimitConfigError(
          file,
          `config error, yaml file contains list of type other than map: ${String(item)}`,
        );
      }
      checkKeys(file, item);
    }
    return;
  }
  if (node instanceof Map) {
    for (const [k, v] of node) {
      if (typeof k !== 'string')
        throw new RateLimitConfigError(file, `config error, key is not of type string: ${String(k)}`);
      if (!knownKeys.has(k)) throw new RateLimitConfigError(file, `config error, unknown key '${k}'`);
      if (k !== 'metadata') checkKeys(file, v);
    }
    return;
  }
  const scalarOk =
    node === null ||
    typeof node === 'string' ||
    typeof node === 'boolean' ||
    (typeof node === 'number' && Number.isSafeInteger(node));
  if (!scalarOk) throw new RateLimitConfigError(file, 'error checking config');
}
