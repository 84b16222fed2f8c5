// Builds one domain's descriptor tree from a checked config file, with envoyproxy/ratelimit's
// validation order and messages: empty key, duplicate, unit/unlimited, replaces, share_threshold.
import type { Algorithm } from '../store/store.js';
import { parseUnit } from '../units.js';
import { RateLimitConfigError } from './config-error.js';
import type { DescriptorLevel, DescriptorNode, RateLimitRule } from './types.js';

type Raw = Map<string, unknown>;
const algorithms: Algorithm[] = ['fixed_window', 'sliding_window', 'token_bucket'];

function bool(file: string, m: Raw, key: string): boolean {
  const v = m.get(key);
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean')
    throw new RateLimitConfigError(
      file,
      `error loading config file: ${key} must be true or false, not ${JSON.stringify(v)}`,
    );
  return v;
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

function wildcard(id: string): RegExp {
  const parts = id.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`, 's');
}

function rule(file: string, raw: unknown): RateLimitRule | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!(raw instanceof Map))
    throw new RateLimitConfigError(file, 'error loading config file: rate_limit must be a map');
  const unlimited = bool(file, raw, 'unlimited');
  const unitText = str(raw.get('unit'));
  const unit = parseUnit(unitText);
  if (unlimited) {
    if (unit) throw new RateLimitConfigError(file, 'should not specify rate limit unit when unlimited');
  } else if (!unit) {
    throw new RateLimitConfigError(file, `invalid rate limit unit '${unitText}'`);
  }
  const rpu = raw.get('requests_per_unit') ?? 0;
  if (typeof rpu !== 'number' || !Number.isInteger(rpu) || rpu < 0 || rpu > 0xffffffff) {
    throw new RateLimitConfigError(
      file,
      `error loading config file: requests_per_unit must be a whole number from 0 to 4294967295, not ${JSON.stringify(rpu)}`,
    );
  }
  const name = raw.get('name') === undefined ? undefined : str(raw.get('name'));
  const replacesRaw = raw.get('replaces') ?? [];
  if (!Array.isArray(replacesRaw))
    throw new RateLimitConfigError(file, 'error loading config file: replaces must be a list');
  const replaces = replacesRaw.map((r) => str((r as Raw).get('name')));
  if (replaces.some((r) => r === '')) throw new RateLimitConfigError(file, 'should not have an empty replaces entry');
  if (name !== undefined && replaces.includes(name))
    throw new RateLimitConfigError(file, 'replaces should not contain name of same descriptor');
  const algorithmText = str(raw.get('algorithm') ?? 'fixed_window');
  if (!algorithms.includes(algorithmText as Algorithm)) {
    throw new RateLimitConfigError(
      file,
      `invalid rate limit algorithm '${algorithmText}' (expected ${algorithms.join(', ')})`,
    );
  }
  return {
    unit: unit ?? 'second',
    requestsPerUnit: rpu,
    unlimited,
    name,
    replaces,
    algorithm: algorithmText as Algorithm,
  };
}

export function buildLevel(file: string, domain: string, raw: unknown, parentPath: string): DescriptorLevel {
  const level: DescriptorLevel = { exact: new Map(), wildcards: [] };
  if (raw === undefined || raw === null) return level;
  if (!Array.isArray(raw))
    throw new RateLimitConfigError(file, 'error loading config file: descriptors must be a list');
  const seen = new Set<string>();
  for (const d of raw as Raw[]) {
    const key = str(d.get('key'));
    if (key === '') throw new RateLimitConfigError(file, 'descriptor has empty key');
    const value = str(d.get('value'));
    const id = value === '' ? key : `${key}_${value}`;
    const path = `${parentPath}.${id}`;
    if (seen.has(id)) throw new RateLimitConfigError(file, `duplicate descriptor composite key '${path}'`);
    seen.add(id);
    const node: DescriptorNode = {
      key,
      value,
      id,
      statsKey: path,
      rule: rule(file, d.get('rate_limit')),
      children: { exact: new Map(), wildcards: [] },
      shadowMode: bool(file, d, 'shadow_mode'),
      quotaMode: bool(file, d, 'quota_mode'),
      detailedMetric: bool(file, d, 'detailed_metric'),
      valueToMetric: bool(file, d, 'value_to_metric'),
      shareThreshold: bool(file, d, 'share_threshold'),
    };
    if (node.shareThreshold && !id.includes('*')) {
      throw new RateLimitConfigError(
        file,
        `share_threshold can only be used with wildcard values (containing '*'), but found key '${id}'`,
      );
    }
    const metadata = d.get('metadata');
    if (metadata !== undefined && metadata !== null && !(metadata instanceof Map)) {
      throw new RateLimitConfigError(file, 'error parsing metadata: metadata must be a map');
    }
    node.children = buildLevel(file, domain, d.get('descriptors'), path);
    if (id.includes('*')) {
      node.pattern = wildcard(id);
      level.wildcards.push(node);
    } else level.exact.set(id, node);
  }
  return level;
}
