// The rate-limit service's config, in envoyproxy/ratelimit's format: one descriptor tree per
// limit, rooted at `limit: <name>`, nested in the order of the limit's `per` keys. The Envoy
// actions (emit/envoy/rate-limit-actions.ts) and ext-authz's token descriptors build exactly
// these paths.
import type { GatewayModel, Limit, RateAmount } from '../../model/types.js';
import { descriptorKeys, limitDescriptorKey } from '../names.js';

type Descriptor = Record<string, unknown>;

function rateLimit(limit: Limit, rate: RateAmount): Descriptor {
  const out: Descriptor = { unit: rate.unit, requests_per_unit: rate.amount };
  if (limit.algorithm && limit.algorithm !== 'fixed_window') out.algorithm = limit.algorithm;
  return out;
}

function leaf(limit: Limit, key: string, rate: RateAmount, value?: string): Descriptor {
  const d: Descriptor = { key };
  if (value !== undefined) d.value = value;
  d.rate_limit = rateLimit(limit, rate);
  if (limit.shadow) d.shadow_mode = true;
  return d;
}

function tree(limit: Limit): Descriptor[] {
  const keys = limit.per.map((k) => descriptorKeys[k]);
  const last = keys[keys.length - 1];
  const leaves: Descriptor[] = limit.overrides.map((o) => leaf(limit, last, o.rate, o.value));
  if (limit.rate) leaves.push(leaf(limit, last, limit.rate));
  let level = leaves;
  for (const key of keys.slice(0, -1).reverse()) level = [{ key, descriptors: level }];
  return level;
}

export function ratelimitConfig(model: GatewayModel): Record<string, unknown> {
  const config: Record<string, unknown> = { domain: model.services.ratelimit.domain };
  if (model.services.redis.whenDown !== 'error') config.failure_mode = model.services.redis.whenDown;
  config.descriptors = model.limits.map((l) => ({ key: limitDescriptorKey, value: l.name, descriptors: tree(l) }));
  return config;
}
