// Rate limit descriptors from a route's `rate_limits`, as Envoy's router_ratelimit.cc builds them.
// Each RateLimit entry of the filter's stage gives one descriptor; its actions run in order and
// each adds one entry:
// - generic_key: {descriptor_key or "generic_key", descriptor_value};
// - remote_address: {"remote_address", the downstream address after XFF processing};
// - request_headers: {descriptor_key, first value of header_name}; an absent header drops the
//   WHOLE descriptor, unless skip_if_absent (then only this entry is left out);
// - metadata (source DYNAMIC or ROUTE_ENTRY) / dynamic_metadata: {descriptor_key, the STRING value
//   at metadata_key (namespace key + path)}; a missing or non-string or empty value uses
//   default_value; with no default the descriptor is dropped, unless skip_if_absent;
// - header_value_match: {descriptor_key or "header_match", descriptor_value} when the headers match
//   (expect_match, default true), else the descriptor is dropped;
// - source_cluster / destination_cluster: the node's cluster / the route's cluster.
// Entries are only pushed when they have a key; the first failing action drops the descriptor.
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import {
  type RateLimit,
  type RateLimit_Action,
  RateLimit_Action_MetaData_Source,
} from '../../../common/envoy-api/gen/envoy/config/route/v3/route_components_pb.js';
import type { MetadataKey } from '../../../common/envoy-api/gen/envoy/type/metadata/v3/metadata_pb.js';
import { SimUnsupportedError } from './bootstrap.js';
import type { HeaderMap } from './header-map.js';
import { checkHeaderMatcher, matchHeaders } from './header-match.js';

export interface DescriptorEntry {
  key: string;
  value: string;
}

export type Descriptor = DescriptorEntry[];

export interface DescriptorContext {
  headers: HeaderMap;
  /** The downstream remote address (Envoy's stream-level remote address, after XFF). */
  remoteAddress: string;
  /** Dynamic metadata by filter namespace (e.g. envoy.filters.http.ext_authz). */
  dynamicMetadata: Record<string, JsonObject>;
  /** The route's own `metadata.filter_metadata`, for source ROUTE_ENTRY. */
  routeMetadata?: Record<string, JsonObject>;
  /** node.cluster of the bootstrap (source_cluster). */
  localServiceCluster: string;
  /** The route's cluster (destination_cluster). */
  routeCluster?: string;
}

/** Envoy's Config::Metadata::metadataValue: the value at namespace `key.key`, then down `key.path`. */
export function metadataValue(
  md: Record<string, JsonObject> | undefined,
  key: MetadataKey | undefined,
): JsonValue | undefined {
  if (!md || !key) return undefined;
  let v: JsonValue | undefined = md[key.key];
  for (const seg of key.path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    if (seg.segment.case !== 'key') return undefined;
    v = (v as JsonObject)[seg.segment.value];
  }
  return v;
}

/** Runs one action; `false` drops the descriptor, `null` adds no entry, else the entry. */
function runAction(a: RateLimit_Action, ctx: DescriptorContext): DescriptorEntry | null | false {
  const s = a.actionSpecifier;
  switch (s.case) {
    case 'genericKey':
      return { key: s.value.descriptorKey || 'generic_key', value: s.value.descriptorValue };
    case 'remoteAddress':
      return { key: 'remote_address', value: ctx.remoteAddress };
    case 'sourceCluster':
      return { key: 'source_cluster', value: ctx.localServiceCluster };
    case 'destinationCluster':
      return ctx.routeCluster === undefined ? false : { key: 'destination_cluster', value: ctx.routeCluster };
    case 'requestHeaders': {
      const v = ctx.headers.get(s.value.headerName);
      if (v === undefined) return s.value.skipIfAbsent ? null : false;
      return { key: s.value.descriptorKey, value: v };
    }
    case 'headerValueMatch': {
      const expect = s.value.expectMatch ?? true;
      if (expect !== matchHeaders(ctx.headers, s.value.headers)) return false;
      return { key: s.value.descriptorKey || 'header_match', value: s.value.descriptorValue };
    }
    case 'metadata':
    case 'dynamicMetadata': {
      const m = s.value;
      const source =
        s.case === 'metadata' && s.value.source === RateLimit_Action_MetaData_Source.ROUTE_ENTRY
          ? ctx.routeMetadata
          : ctx.dynamicMetadata;
      const raw = metadataValue(source, m.metadataKey);
      const str = typeof raw === 'string' ? raw : '';
      if (str !== '') return { key: m.descriptorKey, value: str };
      if (m.defaultValue !== '') return { key: m.descriptorKey, value: m.defaultValue };
      return s.case === 'metadata' && s.value.skipIfAbsent ? null : false;
    }
    default:
      throw new SimUnsupportedError('rate limit action', s.case ?? '(empty)');
  }
}

/** The descriptor of one RateLimit entry, or undefined when an action drops it. */
export function buildDescriptor(rl: RateLimit, ctx: DescriptorContext): Descriptor | undefined {
  const entries: Descriptor = [];
  for (const a of rl.actions) {
    const e = runAction(a, ctx);
    if (e === false) return undefined;
    if (e && e.key !== '') entries.push(e);
  }
  return entries;
}

/** The descriptors of every entry of `stage` (RateLimit.stage defaults to 0). */
export function buildDescriptors(rateLimits: RateLimit[], stage: number, ctx: DescriptorContext): Descriptor[] {
  const out: Descriptor[] = [];
  for (const rl of rateLimits) {
    if ((rl.stage ?? 0) !== stage) continue;
    const d = buildDescriptor(rl, ctx);
    if (d) out.push(d);
  }
  return out;
}

export function checkRateLimits(rateLimits: RateLimit[], where: string): void {
  for (const rl of rateLimits) {
    if (rl.disableKey) throw new SimUnsupportedError(where, 'rate_limits disable_key');
    if (rl.limit) throw new SimUnsupportedError(where, 'rate_limits limit override');
    for (const a of rl.actions) {
      const s = a.actionSpecifier;
      if (
        ![
          'genericKey',
          'remoteAddress',
          'sourceCluster',
          'destinationCluster',
          'requestHeaders',
          'headerValueMatch',
          'metadata',
          'dynamicMetadata',
        ].includes(s.case ?? '')
      )
        throw new SimUnsupportedError(where, `rate limit action ${s.case ?? '(empty)'}`);
      if (s.case === 'headerValueMatch') for (const h of s.value.headers) checkHeaderMatcher(h, where);
    }
  }
}
