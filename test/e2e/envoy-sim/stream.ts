// The state of one request as it crosses the HTTP filter chain (Envoy's ActiveStream): the mutable
// request headers, the buffered body, the cached route, dynamic metadata, and the encoder-side work
// each filter leaves for the response.
import type { JsonObject } from '@bufbuild/protobuf';
import type { RouteConfiguration } from '../../../common/envoy-api/gen/envoy/config/route/v3/route_pb.js';
import type { GatewayListener } from './bootstrap.js';
import type { ClientAddress } from './forwarded-for.js';
import type { HeaderMap } from './header-map.js';
import type { Reply } from './local-reply.js';
import type { RouteSelection } from './route-match.js';
import type { ClusterChoice } from './router.js';

export interface RouteState extends RouteSelection {
  /** The cluster the route entry resolves to (weighted_clusters: the picked one). */
  choice?: ClusterChoice;
}

export interface StreamState {
  listener: GatewayListener;
  routeConfig: RouteConfiguration;
  headers: HeaderMap;
  /** The request body; undefined when the request ended with its headers. */
  body?: Uint8Array;
  peer: { address: string; port: number };
  client: ClientAddress;
  streamId: bigint;
  /** Envoy's route cache: undefined = not resolved yet; null = no route. */
  route?: RouteState | null;
  dynamicMetadata: Record<string, JsonObject>;
  /** Encoder-side header work, in decoder filter order (run in reverse on the response). */
  encoders: ((response: Reply) => void)[];
}

/** Envoy's setDynamicMetadata: merges the fields into the namespace. */
export function mergeDynamicMetadata(s: StreamState, namespace: string, fields: JsonObject): void {
  s.dynamicMetadata[namespace] = { ...(s.dynamicMetadata[namespace] ?? {}), ...fields };
}
