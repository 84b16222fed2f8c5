// Reads an Envoy v3 bootstrap the way Envoy does: strict proto3 JSON against the API descriptors
// (an unknown field, enum name or `@type` is an error, as it is for Envoy at load), then offers
// typed lookups of the parts the simulator plays: listeners, their HTTP connection manager, the
// clusters, and the static runtime layer.
import { type DescMessage, fromJson, type JsonObject, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { type Any, anyUnpack, type Duration } from '@bufbuild/protobuf/wkt';
import {
  type Bootstrap,
  BootstrapSchema,
} from '../../../common/envoy-api/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import type { Cluster } from '../../../common/envoy-api/gen/envoy/config/cluster/v3/cluster_pb.js';
import type { Listener } from '../../../common/envoy-api/gen/envoy/config/listener/v3/listener_pb.js';
import {
  type HttpConnectionManager,
  HttpConnectionManagerSchema,
} from '../../../common/envoy-api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { envoyRegistry } from '../../../common/envoy-api/registry.js';

/** Thrown when the bootstrap uses something the simulator does not play (so a test cannot pass by accident). */
export class SimUnsupportedError extends Error {
  constructor(where: string, what: string) {
    super(`envoy-sim: ${where}: ${what} is not simulated`);
    this.name = 'SimUnsupportedError';
  }
}

/** Thrown when Envoy itself would refuse to load the bootstrap. */
export class SimConfigError extends Error {
  constructor(message: string) {
    super(`envoy-sim: ${message}`);
    this.name = 'SimConfigError';
  }
}

export function parseBootstrap(doc: unknown): Bootstrap {
  try {
    return fromJson(BootstrapSchema, doc as JsonValue, { registry: envoyRegistry() });
  } catch (e) {
    throw new SimConfigError(`Envoy would reject this bootstrap: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Unpacks a typed_config; throws if it holds another type than `schema`. */
export function unpack<D extends DescMessage>(any: Any | undefined, schema: D, where: string): MessageShape<D> {
  const m = any ? anyUnpack(any, schema) : undefined;
  if (!m) throw new SimConfigError(`${where}: expected a ${schema.typeName}, got ${any?.typeUrl ?? 'nothing'}`);
  return m;
}

export function typeNameOf(any: Any | undefined): string {
  return any?.typeUrl.slice(any.typeUrl.lastIndexOf('/') + 1) ?? '';
}

export function durationMs(d: Duration | undefined, fallbackMs: number): number {
  if (!d) return fallbackMs;
  return Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6);
}

export interface GatewayListener {
  listener: Listener;
  port: number;
  address: string;
  hcm: HttpConnectionManager;
  /** Whether the (first) filter chain terminates TLS: decides x-forwarded-proto / :scheme. */
  tls: boolean;
}

/** Every listener with an HTTP connection manager, in bootstrap order. */
export function gatewayListeners(b: Bootstrap): GatewayListener[] {
  const out: GatewayListener[] = [];
  for (const listener of b.staticResources?.listeners ?? []) {
    const where = `listener ${listener.name}`;
    if (listener.filterChains.length !== 1)
      throw new SimUnsupportedError(where, `${listener.filterChains.length} filter chains (exactly one is simulated)`);
    const chain = listener.filterChains[0];
    if (chain.filterChainMatch) throw new SimUnsupportedError(where, 'filter_chain_match');
    if (listener.listenerFilters.length) throw new SimUnsupportedError(where, 'listener_filters');
    const filters = chain.filters;
    const hcmFilter = filters.find((f) => f.name === 'envoy.filters.network.http_connection_manager');
    if (!hcmFilter) continue;
    if (filters.length !== 1)
      throw new SimUnsupportedError(where, 'network filters besides the HTTP connection manager');
    const hcm = unpack(
      hcmFilter.configType.case === 'typedConfig' ? hcmFilter.configType.value : undefined,
      HttpConnectionManagerSchema,
      where,
    );
    const sa = listener.address?.address.case === 'socketAddress' ? listener.address.address.value : undefined;
    if (sa?.portSpecifier.case !== 'portValue') throw new SimUnsupportedError(where, 'an address that is not ip:port');
    out.push({
      listener,
      port: sa.portSpecifier.value,
      address: sa.address,
      hcm,
      tls: chain.transportSocket !== undefined,
    });
  }
  return out;
}

export function clusterMap(b: Bootstrap): Map<string, Cluster> {
  return new Map((b.staticResources?.clusters ?? []).map((c) => [c.name, c]));
}

function flatten(prefix: string, v: JsonValue, out: Map<string, JsonValue>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as JsonObject)) flatten(prefix ? `${prefix}.${k}` : k, x as JsonValue, out);
  } else out.set(prefix, v);
}

/** The merged static runtime layers (nested keys flattened with dots, as Envoy does). */
export function staticRuntime(b: Bootstrap): Map<string, JsonValue> {
  const out = new Map<string, JsonValue>();
  for (const layer of b.layeredRuntime?.layers ?? []) {
    if (layer.layerSpecifier.case === 'staticLayer') flatten('', layer.layerSpecifier.value, out);
  }
  return out;
}

export function runtimeFlag(runtime: Map<string, JsonValue>, key: string): boolean | undefined {
  const v = runtime.get(key);
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v === 'true';
  if (typeof v === 'number') return v !== 0;
  return undefined;
}
