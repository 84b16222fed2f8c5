// The limits one request counts against: the descriptor each limit builds from the request's
// values, looked up in the generated rate-limit config by the rate-limit service's own matcher
// (so overrides, defaults and shadow mode are exactly what the service would apply).
import type { DomainConfig } from '../../../ratelimit-service/src/config/types.js';
import { matchLimit } from '../../../ratelimit-service/src/match.js';
import { descriptorKeys, limitDescriptorKey, missingValue } from '../emit/names.js';
import type { Limit, LimitKey, Route } from '../model/types.js';

export interface LimitView {
  name: string;
  kind: 'requests' | 'tokens';
  /** The counted keys with this request's values (`<…>` when the request does not say). */
  per: Record<string, string>;
  amount?: number;
  unit?: string;
  /** The override value whose rate applies. */
  override?: string;
  /** Overrides that may apply instead, when a counted value is unknown. */
  otherOverrides?: string[];
  shadow: boolean;
  algorithm?: string;
  /** Tokens charged per request, when known. */
  charge?: number;
}

/** What the request's descriptors are built from. */
export interface CountedValues {
  ip?: string;
  model?: string;
  /** none: no identity (Envoy's metadata default applies); token: a JWT whose claims are unknown. */
  identity: 'none' | 'known' | 'token';
  client?: string;
  tenant?: string;
  /** The JWT claims client and tenant come from, for the placeholders. */
  claims?: { client: string; tenant: string };
}

function counted(key: LimitKey, route: Route, v: CountedValues): { value: string; known: boolean } {
  switch (key) {
    case 'ip':
      return v.ip ? { value: v.ip, known: true } : { value: '<client ip>', known: false };
    case 'route':
      return { value: route.name, known: true };
    case 'model':
      // ext-authz sets no model when the body has none: Envoy's default_value.
      return { value: v.model ?? missingValue, known: true };
    default: {
      if (v.identity === 'none') return { value: missingValue, known: true };
      const value = v[key];
      if (v.identity === 'known' && value !== undefined) return { value, known: true };
      return { value: `<token ${v.claims ? `"${v.claims[key]}"` : key} claim>`, known: false };
    }
  }
}

export function limitView(ratelimit: DomainConfig, limit: Limit, route: Route, values: CountedValues): LimitView {
  const per: Record<string, string> = {};
  const entries = [{ key: limitDescriptorKey, value: limit.name }];
  let unknown = false;
  for (const k of limit.per) {
    const v = counted(k, route, values);
    per[k] = v.value;
    unknown ||= !v.known;
    entries.push({ key: descriptorKeys[k], value: v.value });
  }
  const out: LimitView = { name: limit.name, kind: limit.kind, per, shadow: false };
  const hit = matchLimit(ratelimit, entries, '');
  if (hit) {
    out.amount = hit.rule.requestsPerUnit;
    out.unit = hit.rule.unit;
    out.shadow = hit.shadowMode;
    if (hit.rule.algorithm !== 'fixed_window') out.algorithm = hit.rule.algorithm;
    // The stats key names the matched config path: `….key` for the default, `….key_value` for an override.
    const last = descriptorKeys[limit.per[limit.per.length - 1]];
    if (!hit.statsKey.endsWith(`.${last}`))
      out.override = limit.overrides.find((o) => hit.statsKey.endsWith(`.${last}_${o.value}`))?.value;
  }
  if (unknown && limit.overrides.length)
    out.otherOverrides = limit.overrides.map((o) => `${o.value} ${o.rate.amount}/${o.rate.unit}`);
  return out;
}

export function limitText(l: LimitView): string {
  const per = Object.entries(l.per)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const what = l.kind === 'tokens' ? ' tokens' : '';
  let s =
    l.amount === undefined
      ? `${l.name}: no limit for ${per}`
      : `${l.name}: ${l.amount}${what}/${l.unit} per ${per}${l.override !== undefined ? ` (override for ${l.override})` : ''}`;
  if (l.otherOverrides) s += `; overrides: ${l.otherOverrides.join(', ')}`;
  if (l.algorithm) s += `, ${l.algorithm.replace('_', ' ')}`;
  if (l.shadow) s += ' [shadow: counted, never enforced]';
  if (l.kind === 'tokens')
    s += l.charge !== undefined ? `; charges ${l.charge} tokens` : "; charges ext-authz's estimate of the body";
  return s;
}
