// The ext_authz HTTP filter (envoy.filters.http.ext_authz, gRPC service), after Envoy's
// ext_authz.cc, check_request_utils.cc and ext_authz_grpc_impl.cc.
//
// - No route: the filter does nothing (the router answers 404). A per-route ExtAuthzPerRoute
//   `disabled: true` skips it too. context_extensions merge from the least specific level
//   (route configuration, virtual host, route, weighted cluster) to the most specific; the
//   check_settings come from the most specific level that has an ExtAuthzPerRoute.
// - Body: buffered when the filter or the route's check_settings has with_request_body and the
//   request has a body. Without allow_partial_message a body over max_request_bytes gets 413
//   "Payload Too Large" and no check; with it the first max_request_bytes are sent. The body goes
//   in `body` (a string) unless the FILTER's with_request_body.pack_as_bytes (then `raw_body`; a
//   route's pack_as_bytes is ignored by Envoy), and the header x-envoy-auth-partial-body is set.
// - CheckRequest: source = the TCP peer (NOT the X-Forwarded-For client), destination = the
//   listener; request.http: id (stream id), method, path (with query), host, scheme, size (bytes
//   received), protocol, and every request header with a lower-case key including pseudo-headers,
//   a repeated header joined with "," (a client's x-envoy-auth-partial-body is dropped).
// - OK: dynamic_metadata is stored under envoy.filters.http.ext_authz; ok_response.headers are
//   applied (`append` false or OVERWRITE_IF_EXISTS_OR_ADD → replace; `append` true → append to an
//   existing header; APPEND_IF_EXISTS_OR_ADD → add an entry; ADD_IF_ABSENT; OVERWRITE_IF_EXISTS);
//   headers_to_remove (never ":..." or "host"); query parameter changes; response_headers_to_add
//   go on the response. With clear_route_cache and any set/append/remove, the route is resolved
//   again (the filter itself does not run again for the new route).
// - Denied: the denied_response status (403 when unset), its headers and body as a local reply.
// - gRPC error or timeout (grpc_service.timeout, default 200ms): failure_mode_allow lets the request
//   through, else status_on_error (403 when unset).
import { create, type JsonObject } from '@bufbuild/protobuf';
import { type Any, timestampNow } from '@bufbuild/protobuf/wkt';
import {
  HeaderValueOption_HeaderAppendAction as Action,
  MetadataSchema,
} from '../../../common/envoy-api/gen/envoy/config/core/v3/base_pb.js';
import { ApiVersion } from '../../../common/envoy-api/gen/envoy/config/core/v3/config_source_pb.js';
import type { RouteConfiguration } from '../../../common/envoy-api/gen/envoy/config/route/v3/route_pb.js';
import {
  type CheckSettings,
  type ExtAuthz,
  ExtAuthzPerRouteSchema,
} from '../../../common/envoy-api/gen/envoy/extensions/filters/http/ext_authz/v3/ext_authz_pb.js';
import {
  Authorization,
  type CheckRequest,
  CheckRequestSchema,
  type CheckResponse,
} from '../../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import { durationMs, SimConfigError, SimUnsupportedError, unpack } from './bootstrap.js';
import { type Endpoint, grpcErrorText, UnaryClient } from './grpc-client.js';
import type { HeaderMap } from './header-map.js';
import { writeHeader } from './header-mutation.js';
import { localReply, type Reply, statusText } from './local-reply.js';
import { mergeDynamicMetadata, type RouteState, type StreamState } from './stream.js';
import type { SimResult } from './types.js';

export const authzNamespace = 'envoy.filters.http.ext_authz';
const partialBodyHeader = 'x-envoy-auth-partial-body';

/** Envoy's toErrorCode: a status in [100, 511], else 403. */
export function httpStatusOr403(code: number | undefined): number {
  return code !== undefined && code >= 100 && code <= 511 ? code : 403;
}

export interface AuthzRouteSettings {
  skip: boolean;
  contextExtensions: Record<string, string>;
  checkSettings?: CheckSettings;
}

/** The per-route view of the filter for the stream's current route. */
export function authzRouteSettings(
  filterName: string,
  rc: RouteConfiguration,
  sel: RouteState | null | undefined,
): AuthzRouteSettings {
  if (!sel) return { skip: true, contextExtensions: {} };
  const levels: { [key: string]: Any }[] = [
    rc.typedPerFilterConfig,
    sel.virtualHost.typedPerFilterConfig,
    sel.route.typedPerFilterConfig,
  ];
  if (sel.choice?.weighted) levels.push(sel.choice.weighted.typedPerFilterConfig);
  const contextExtensions: Record<string, string> = {};
  let mostSpecific: ReturnType<typeof unpackPerRoute> | undefined;
  for (const level of levels) {
    const any = level[filterName];
    if (!any) continue;
    const per = unpackPerRoute(any, filterName);
    if (per.override.case === 'checkSettings') Object.assign(contextExtensions, per.override.value.contextExtensions);
    mostSpecific = per;
  }
  if (mostSpecific?.override.case === 'disabled' && mostSpecific.override.value)
    return { skip: true, contextExtensions };
  return {
    skip: false,
    contextExtensions,
    checkSettings: mostSpecific?.override.case === 'checkSettings' ? mostSpecific.override.value : undefined,
  };
}

function unpackPerRoute(any: Any, filterName: string) {
  return unpack(any, ExtAuthzPerRouteSchema, `typed_per_filter_config ${filterName}`);
}

export interface CheckRequestInput {
  state: StreamState;
  contextExtensions: Record<string, string>;
  /** The buffered body bytes to send (already cut to max_request_bytes), or undefined. */
  body?: Uint8Array;
  /** Whether the body was cut (x-envoy-auth-partial-body). */
  partial: boolean;
  packAsBytes: boolean;
  encodeRawHeaders: boolean;
  metadataNamespaces: string[];
  localAddress: string;
}

const socket = (address: string, port: number) => ({
  address: {
    case: 'socketAddress' as const,
    value: { address, portSpecifier: { case: 'portValue' as const, value: port } },
  },
});

export function buildCheckRequest(i: CheckRequestInput): CheckRequest {
  const h = i.state.headers;
  const headers: Record<string, string> = {};
  const rawHeaders: { key: string; rawValue: Uint8Array }[] = [];
  for (const [k, v] of h.entries()) {
    if (k === partialBodyHeader) continue;
    if (i.encodeRawHeaders) rawHeaders.push({ key: k, rawValue: new TextEncoder().encode(v) });
    else headers[k] = k in headers ? `${headers[k]},${v}` : v;
  }
  if (i.body) {
    const partial = i.partial ? 'true' : 'false';
    if (i.encodeRawHeaders) rawHeaders.push({ key: partialBodyHeader, rawValue: new TextEncoder().encode(partial) });
    else headers[partialBodyHeader] = partial;
  }
  const filterMetadata: Record<string, JsonObject> = {};
  for (const ns of i.metadataNamespaces) {
    const md = i.state.dynamicMetadata[ns];
    if (md) filterMetadata[ns] = md;
  }
  return create(CheckRequestSchema, {
    attributes: {
      source: {
        address: socket(i.state.peer.address, i.state.peer.port),
        service: h.get('x-envoy-downstream-service-cluster') ?? '',
      },
      destination: { address: socket(i.localAddress, i.state.listener.port) },
      request: {
        time: timestampNow(),
        http: {
          id: i.state.streamId.toString(),
          method: h.get(':method') ?? '',
          path: h.get(':path') ?? '',
          host: h.get(':authority') ?? '',
          scheme: h.get(':scheme') ?? '',
          size: BigInt(i.body?.length ?? 0),
          protocol: 'HTTP/1.1',
          ...(i.encodeRawHeaders ? { headerMap: { headers: rawHeaders } } : { headers }),
          ...(i.body ? (i.packAsBytes ? { rawBody: i.body } : { body: Buffer.from(i.body).toString('utf8') }) : {}),
        },
      },
      contextExtensions: i.contextExtensions,
      metadataContext: create(MetadataSchema, { filterMetadata }),
      routeMetadataContext: create(MetadataSchema, {}),
    },
  });
}

export interface OkMutations {
  /** Whether the mutations make Envoy clear the route cache (set, append or remove; not add). */
  touchesRoute: boolean;
  /** response_headers_to_add, applied to the response on its way back. */
  responseMutations: { key: string; value: string; action: Action }[];
}

/** Applies an OK CheckResponse's request mutations (Envoy's onComplete, CheckStatus::OK). */
export function applyOkResponse(res: CheckResponse, headers: HeaderMap): OkMutations {
  const ok = res.httpResponse.case === 'okResponse' ? res.httpResponse.value : undefined;
  const responseMutations: OkMutations['responseMutations'] = [];
  if (!ok) return { touchesRoute: false, responseMutations };
  // Envoy sorts the headers into lists and applies them list by list: set, add, append, then removes.
  const set: [string, string][] = [];
  const add: [string, string, Action][] = [];
  const append: [string, string][] = [];
  for (const o of ok.headers) {
    const key = o.header?.key ?? '';
    const value = o.header?.value ?? '';
    if (!key) continue;
    if (o.append !== undefined) (o.append ? append : set).push([key, value]);
    else if (o.appendAction === Action.OVERWRITE_IF_EXISTS_OR_ADD) set.push([key, value]);
    else add.push([key, value, o.appendAction]);
  }
  let touchesRoute = set.length > 0 || append.length > 0 || ok.headersToRemove.length > 0;
  for (const [k, v] of set) headers.set(k, v);
  for (const [k, v, action] of add) writeHeader(headers, k, v, action);
  // Envoy appends only to a header that exists (it never adds one from this list).
  for (const [k, v] of append) if (headers.has(k)) headers.append(k, v);
  for (const name of ok.headersToRemove) {
    const l = name.toLowerCase();
    if (l.startsWith(':') || l === 'host') continue;
    headers.remove(l);
  }
  if (ok.queryParametersToSet.length || ok.queryParametersToRemove.length) {
    touchesRoute = true;
    const path = headers.get(':path') ?? '/';
    const q = path.indexOf('?');
    const params = new URLSearchParams(q < 0 ? '' : path.slice(q + 1));
    for (const p of ok.queryParametersToSet) params.set(p.key, p.value);
    for (const k of ok.queryParametersToRemove) params.delete(k);
    const qs = params.toString();
    headers.set(':path', (q < 0 ? path : path.slice(0, q)) + (qs ? `?${qs}` : ''));
  }
  for (const o of ok.responseHeadersToAdd) {
    const key = o.header?.key ?? '';
    if (!key) continue;
    const action =
      o.append !== undefined
        ? o.append
          ? Action.APPEND_IF_EXISTS_OR_ADD
          : Action.OVERWRITE_IF_EXISTS_OR_ADD
        : o.appendAction;
    responseMutations.push({ key, value: o.header?.value ?? '', action });
  }
  return { touchesRoute, responseMutations };
}

export interface AuthzOutcome {
  /** A local reply ends the request. */
  reply?: Reply;
  /** The route cache must be cleared (clear_route_cache and a header mutation). */
  clearRouteCache: boolean;
  result: NonNullable<SimResult['authz']>;
}

export class AuthzFilter {
  private readonly client: UnaryClient<CheckRequest, CheckResponse>;
  readonly timeoutMs: number;

  constructor(
    readonly name: string,
    readonly config: ExtAuthz,
    endpoint: Endpoint,
    readonly clusterName: string,
    private readonly localAddress: string,
  ) {
    const where = `http filter ${name}`;
    if (config.services.case !== 'grpcService') throw new SimUnsupportedError(where, 'an HTTP authorization service');
    const gs = config.services.value;
    if (gs.targetSpecifier.case !== 'envoyGrpc') throw new SimUnsupportedError(where, 'google_grpc');
    if (config.transportApiVersion !== ApiVersion.V3)
      throw new SimConfigError(`${where}: transport_api_version must be V3 (Envoy rejects other versions)`);
    for (const [field, set] of [
      ['filter_enabled', config.filterEnabled],
      ['filter_enabled_metadata', config.filterEnabledMetadata],
      ['deny_at_disable', config.denyAtDisable],
      ['allowed_headers', config.allowedHeaders],
      ['disallowed_headers', config.disallowedHeaders],
      ['decoder_header_mutation_rules', config.decoderHeaderMutationRules],
    ] as const)
      if (set) throw new SimUnsupportedError(where, field);
    if (config.typedMetadataContextNamespaces.length || config.routeMetadataContextNamespaces.length)
      throw new SimUnsupportedError(where, 'typed/route metadata context namespaces');
    this.timeoutMs = durationMs(gs.timeout, 200);
    this.client = new UnaryClient(Authorization, 'Check', endpoint, clusterName);
  }

  close(): void {
    this.client.close();
  }

  async decode(state: StreamState, reroute: () => void): Promise<AuthzOutcome> {
    const c = this.config;
    const settings = authzRouteSettings(this.name, state.routeConfig, state.route);
    if (settings.skip) return { clearRouteCache: false, result: { called: false } };
    const cs = settings.checkSettings;
    const hasBodySettings =
      (c.withRequestBody !== undefined || cs?.withRequestBody !== undefined) && !cs?.disableRequestBodyBuffering;
    let body: Uint8Array | undefined;
    let partial = false;
    if (hasBodySettings && state.body !== undefined && state.body.length > 0) {
      const allowPartial = cs?.withRequestBody
        ? cs.withRequestBody.allowPartialMessage
        : (c.withRequestBody?.allowPartialMessage ?? false);
      const max = cs?.withRequestBody ? cs.withRequestBody.maxRequestBytes : (c.withRequestBody?.maxRequestBytes ?? 0);
      if (!allowPartial && state.body.length > max)
        return { reply: localReply(413, statusText[413]), clearRouteCache: false, result: { called: false } };
      body = state.body.subarray(0, Math.min(state.body.length, max));
      partial = body.length !== state.body.length;
    }
    const request = buildCheckRequest({
      state,
      contextExtensions: settings.contextExtensions,
      body,
      partial,
      packAsBytes: c.withRequestBody?.packAsBytes ?? false,
      encodeRawHeaders: c.encodeRawHeaders,
      metadataNamespaces: c.metadataContextNamespaces,
      localAddress: this.localAddress,
    });
    let res: CheckResponse;
    try {
      res = await this.client.call(request, this.timeoutMs);
    } catch (e) {
      const error = grpcErrorText(e);
      if (c.failureModeAllow) {
        if (c.failureModeAllowHeaderAdd) state.headers.add('x-envoy-auth-failure-mode-allowed', 'true');
        return { clearRouteCache: false, result: { called: true, error } };
      }
      return {
        reply: localReply(httpStatusOr403(c.statusOnError?.code)),
        clearRouteCache: false,
        result: { called: true, error },
      };
    }
    // OkHttpResponse.dynamic_metadata (deprecated) overrides the CheckResponse's.
    const ok = res.httpResponse.case === 'okResponse' ? res.httpResponse.value : undefined;
    const md = ok?.dynamicMetadata ?? res.dynamicMetadata;
    if (md && Object.keys(md).length && c.enableDynamicMetadataIngestion !== false)
      mergeDynamicMetadata(state, authzNamespace, md);
    const metadata = state.dynamicMetadata[authzNamespace];
    if ((res.status?.code ?? 0) === 0) return this.onOk(res, state, reroute, metadata);
    const denied = res.httpResponse.case === 'deniedResponse' ? res.httpResponse.value : undefined;
    const status = denied?.status?.code ? denied.status.code : 403;
    return {
      reply: localReply(status, denied?.body ?? '', (h) => {
        for (const o of denied?.headers ?? []) if (o.header?.key) h.remove(o.header.key);
        for (const o of denied?.headers ?? []) if (o.header?.key) h.add(o.header.key, o.header.value);
      }),
      clearRouteCache: false,
      result: { called: true, allowed: false, ...(metadata ? { metadata } : {}) },
    };
  }

  private onOk(
    res: CheckResponse,
    state: StreamState,
    reroute: () => void,
    metadata: JsonObject | undefined,
  ): AuthzOutcome {
    const { touchesRoute, responseMutations } = applyOkResponse(res, state.headers);
    if (responseMutations.length) {
      state.encoders.push((reply) => {
        for (const m of responseMutations) writeHeader(reply.headers, m.key, m.value, m.action);
      });
    }
    const clear = this.config.clearRouteCache && touchesRoute;
    if (clear) reroute();
    return { clearRouteCache: clear, result: { called: true, allowed: true, ...(metadata ? { metadata } : {}) } };
  }
}
