// The HTTP connection manager's work on a request before the HTTP filters run, in Envoy's order:
// 1. the HTTP/1 codec: header names are lower-cased, Host becomes :authority; a header name with
//    "_" is dropped or (REJECT_REQUEST) answered with 400;
// 2. :path normalisation (path-normalization.ts): 400 / 307 redirect;
// 3. host normalisation: strip_trailing_host_dot, strip_any_host_port / strip_matching_host_port;
// 4. ConnectionManagerUtility::mutateRequestHeaders: hop-by-hop headers removed, x-envoy-internal
//    removed, the client address (forwarded-for.ts), X-Forwarded-For appended,
//    x-forwarded-proto set (kept only from a trusted hop), :scheme set if absent, internal requests
//    marked x-envoy-internal: true, other requests stripped of Envoy's control headers
//    (x-envoy-retry-on, x-envoy-upstream-rq-timeout-ms, ...; edge requests also of
//    x-envoy-downstream-service-cluster/-node and x-envoy-decorator-operation) and of the route
//    configuration's internal_only_headers, x-envoy-external-address set on edge requests,
//    x-request-id generated (always on edge requests unless preserve_external_request_id),
//    x-forwarded-client-cert removed (no mTLS);
// 5. early_header_mutation_extensions (header_mutation), before routing.
import { randomUUID } from 'node:crypto';
import type { JsonValue } from '@bufbuild/protobuf';
import { HttpProtocolOptions_HeadersWithUnderscoresAction as Underscores } from '../../../common/envoy-api/gen/envoy/config/core/v3/protocol_pb.js';
import {
  type HttpConnectionManager,
  HttpConnectionManager_ForwardClientCertDetails,
} from '../../../common/envoy-api/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { HeaderMutationSchema as EarlyHeaderMutationSchema } from '../../../common/envoy-api/gen/envoy/extensions/http/early_header_mutation/header_mutation/v3/header_mutation_pb.js';
import { type GatewayListener, runtimeFlag, SimUnsupportedError, typeNameOf, unpack } from './bootstrap.js';
import { type ClientAddress, type ClientAddressConfig, clientAddress } from './forwarded-for.js';
import { HeaderMap } from './header-map.js';
import { compileMutationRules, type Mutation } from './header-mutation.js';
import { localReply, type Reply, statusText } from './local-reply.js';
import { escapedSlashesAction, normalizePath, type PathPolicy } from './path-normalization.js';
import { portStart } from './route-match.js';

export interface IncomingRequest {
  method: string;
  path: string;
  authority?: string;
  headers: [string, string][];
  peer: string;
}

const sanitizedForExternal = [
  'x-envoy-retriable-status-codes',
  'x-envoy-retriable-header-names',
  'x-envoy-retry-on',
  'x-envoy-retry-grpc-on',
  'x-envoy-max-retries',
  'x-envoy-upstream-alt-stat-name',
  'x-envoy-upstream-rq-timeout-ms',
  'x-envoy-upstream-rq-per-try-timeout-ms',
  'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-expected-rq-timeout-ms',
  'x-envoy-force-trace',
  'x-envoy-ip-tags',
  'x-envoy-original-url',
  'x-envoy-hedge-on-per-try-timeout',
];
const sanitizedForEdge = [
  'x-envoy-decorator-operation',
  'x-envoy-downstream-service-cluster',
  'x-envoy-downstream-service-node',
];

export interface Admitted {
  headers: HeaderMap;
  client: ClientAddress;
}

export class ConnectionManager {
  private readonly pathPolicy: PathPolicy;
  private readonly addressConfig: ClientAddressConfig;
  private readonly earlyMutations: Mutation[];
  private readonly internalOnlyHeaders: string[];

  constructor(
    private readonly gl: GatewayListener,
    runtime: Map<string, JsonValue>,
  ) {
    const hcm: HttpConnectionManager = gl.hcm;
    const where = `listener ${gl.listener.name} http_connection_manager`;
    if (hcm.routeSpecifier.case !== 'routeConfig')
      throw new SimUnsupportedError(where, `route ${hcm.routeSpecifier.case}`);
    for (const [field, set] of [
      ['via', hcm.via !== ''],
      ['add_user_agent', hcm.addUserAgent === true],
      ['original_ip_detection_extensions', hcm.originalIpDetectionExtensions.length > 0],
      ['local_reply_config', hcm.localReplyConfig !== undefined],
      ['scheme_header_transformation', hcm.schemeHeaderTransformation !== undefined],
      ['typed_header_validation_config', hcm.typedHeaderValidationConfig !== undefined],
      ['path_normalization_options', hcm.pathNormalizationOptions !== undefined],
      ['request_id_extension', hcm.requestIdExtension !== undefined],
      ['append_x_forwarded_port', hcm.appendXForwardedPort],
      [
        'forward_client_cert_details',
        hcm.forwardClientCertDetails !== HttpConnectionManager_ForwardClientCertDetails.SANITIZE,
      ],
    ] as const)
      if (set) throw new SimUnsupportedError(where, field);
    this.pathPolicy = {
      // Unset normalize_path follows the runtime key http_connection_manager.normalize_path (default off).
      normalizePath: hcm.normalizePath ?? runtimeFlag(runtime, 'http_connection_manager.normalize_path') ?? false,
      mergeSlashes: hcm.mergeSlashes,
      escapedSlashes: escapedSlashesAction(hcm.pathWithEscapedSlashesAction),
    };
    const iac = hcm.internalAddressConfig;
    this.addressConfig = {
      useRemoteAddress: hcm.useRemoteAddress ?? false,
      xffNumTrustedHops: hcm.xffNumTrustedHops,
      skipXffAppend: hcm.skipXffAppend,
      internal: {
        cidrRanges: iac?.cidrRanges.map((r) => ({ prefix: r.addressPrefix, len: r.prefixLen ?? 0 })),
        explicitConfig: runtimeFlag(runtime, 'envoy.reloadable_features.explicit_internal_address_config') ?? false,
      },
    };
    this.earlyMutations = hcm.earlyHeaderMutationExtensions.map((ext) => {
      if (typeNameOf(ext.typedConfig) !== EarlyHeaderMutationSchema.typeName)
        throw new SimUnsupportedError(where, `early header mutation ${ext.name}`);
      const cfg = unpack(ext.typedConfig, EarlyHeaderMutationSchema, `${where} ${ext.name}`);
      return compileMutationRules(cfg.mutations, `${where} ${ext.name}`);
    });
    this.internalOnlyHeaders = hcm.routeSpecifier.value.internalOnlyHeaders.map((h) => h.toLowerCase());
  }

  /** Codec + connection manager processing; a Reply when Envoy answers without routing. */
  admit(r: IncomingRequest): Reply | Admitted {
    const hcm = this.gl.hcm;
    const headers = new HeaderMap();
    if (r.authority !== undefined) headers.add(':authority', r.authority);
    headers.add(':path', r.path);
    headers.add(':method', r.method);
    const underscores = hcm.commonHttpProtocolOptions?.headersWithUnderscoresAction ?? Underscores.ALLOW;
    for (const [k, v] of r.headers) {
      if (k.includes('_')) {
        if (underscores === Underscores.REJECT_REQUEST) return localReply(400, statusText[400]);
        if (underscores === Underscores.DROP_HEADER) continue;
      }
      headers.add(k, v);
    }

    // Path normalisation.
    const norm = normalizePath(r.path, this.pathPolicy);
    if (norm.action === 'reject') return localReply(400);
    headers.set(':path', norm.path);
    if (norm.action === 'redirect') return localReply(307, '', (h) => h.set('location', norm.path));

    // Host normalisation.
    let host = headers.get(':authority');
    if (host !== undefined) {
      if (hcm.stripTrailingHostDot) host = host.replace(/\.(?=(:\d+)?$)/, '');
      const p = portStart(host);
      if (p >= 0) {
        const port = Number(host.slice(p + 1));
        if (hcm.stripPortMode.case === 'stripAnyHostPort' || (hcm.stripMatchingHostPort && port === this.gl.port))
          host = host.slice(0, p);
      }
      headers.set(':authority', host);
    }

    // mutateRequestHeaders.
    for (const h of [
      'connection',
      'upgrade',
      'keep-alive',
      'proxy-connection',
      'transfer-encoding',
      'x-envoy-internal',
    ])
      headers.remove(h);
    const client = clientAddress(r.peer, headers.getJoined('x-forwarded-for'), this.addressConfig);
    if (client.xff !== undefined) headers.set('x-forwarded-for', client.xff);
    const proto = this.gl.tls ? 'https' : 'http';
    if (this.addressConfig.useRemoteAddress) {
      if (this.addressConfig.xffNumTrustedHops === 0 || !headers.has('x-forwarded-proto'))
        headers.set('x-forwarded-proto', proto);
    } else if (!headers.has('x-forwarded-proto')) headers.set('x-forwarded-proto', proto);
    if (!headers.has(':scheme')) {
      const xfp = headers.get('x-forwarded-proto')?.toLowerCase();
      headers.set(':scheme', xfp === 'http' || xfp === 'https' ? xfp : proto);
    }
    if (client.internal) headers.set('x-envoy-internal', 'true');
    else {
      if (client.edge) for (const h of sanitizedForEdge) headers.remove(h);
      for (const h of sanitizedForExternal) headers.remove(h);
      for (const h of this.internalOnlyHeaders) headers.remove(h);
    }
    if (client.edge) headers.set('x-envoy-external-address', client.remoteAddress);
    if (hcm.generateRequestId ?? true) {
      const force = !hcm.preserveExternalRequestId && client.edge;
      if (force || !headers.has('x-request-id')) headers.set('x-request-id', randomUUID());
    }
    headers.remove('x-forwarded-client-cert');

    // Early header mutations.
    const ctx = { requestHeaders: headers, remoteAddress: client.remoteAddress };
    for (const m of this.earlyMutations) m(headers, ctx);
    return { headers, client };
  }
}
