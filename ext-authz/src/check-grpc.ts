// Envoy's gRPC ext_authz (envoy.service.auth.v3.Authorization/Check): CheckRequest → decision →
// CheckResponse, reading and writing exactly the fields Envoy uses. A denial is a CheckResponse
// (non-OK status + denied_response), never an RPC error: an RPC error means "authz is broken"
// and Envoy applies its failure mode.
import { create } from '@bufbuild/protobuf';
import { HeaderValueOptionSchema } from '../../common/envoy-api/gen/envoy/config/core/v3/base_pb.js';
import {
  type CheckRequest,
  type CheckResponse,
  CheckResponseSchema,
  DeniedHttpResponseSchema,
  OkHttpResponseSchema,
} from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';
import { type CheckInput, type Decision, denialBody } from './decision.js';

/** google.rpc.Code values Envoy reads from CheckResponse.status. */
const rpc = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
};

export const policyContextKey = 'policy';

export function checkInputFromEnvoy(req: CheckRequest): CheckInput {
  const http = req.attributes?.request?.http;
  const headers = new Map<string, string[]>();
  if (http?.headerMap?.headers.length) {
    for (const h of http.headerMap.headers) {
      const k = h.key.toLowerCase();
      const v = h.value || new TextDecoder().decode(h.rawValue);
      headers.set(k, [...(headers.get(k) ?? []), v]);
    }
  } else {
    for (const [k, v] of Object.entries(http?.headers ?? {})) headers.set(k.toLowerCase(), [v]);
  }
  let body: Uint8Array | undefined;
  if (http?.rawBody?.length) body = http.rawBody;
  else if (http?.body) body = new TextEncoder().encode(http.body);
  const source = req.attributes?.source?.address?.address;
  return {
    method: http?.method || headers.get(':method')?.[0] || '',
    path: http?.path || headers.get(':path')?.[0] || '',
    host: http?.host || headers.get(':authority')?.[0] || '',
    headers,
    body,
    policy: req.attributes?.contextExtensions?.[policyContextKey],
    requestId: http?.id || headers.get('x-request-id')?.[0] || '',
    // Envoy sets x-envoy-external-address to the client address it derived from X-Forwarded-For
    // (trusted hops), the same one its remote_address rate-limit action uses.
    sourceIp:
      headers.get('x-envoy-external-address')?.[0] ?? (source?.case === 'socketAddress' ? source.value.address : ''),
  };
}

const header = (key: string, value: string) =>
  create(HeaderValueOptionSchema, { header: { key, value }, append: false });

/** The google.rpc code of CheckResponse.status for a denial with this HTTP status. */
export function responseStatusCode(status: number): number {
  if (status === 401) return rpc.UNAUTHENTICATED;
  if (status === 403) return rpc.PERMISSION_DENIED;
  if (status === 404) return rpc.NOT_FOUND;
  if (status === 429) return rpc.RESOURCE_EXHAUSTED;
  if (status >= 500) return rpc.UNAVAILABLE;
  return rpc.INVALID_ARGUMENT;
}

export function envoyCheckResponse(d: Decision): CheckResponse {
  if (d.allow) {
    return create(CheckResponseSchema, {
      status: { code: rpc.OK, message: '' },
      httpResponse: {
        case: 'okResponse',
        value: create(OkHttpResponseSchema, {
          headers: d.setHeaders.map(([k, v]) => header(k, v)),
          headersToRemove: d.removeHeaders,
        }),
      },
      dynamicMetadata: d.metadata,
    });
  }
  return create(CheckResponseSchema, {
    status: { code: responseStatusCode(d.status), message: d.reason },
    httpResponse: {
      case: 'deniedResponse',
      value: create(DeniedHttpResponseSchema, {
        status: { code: d.status },
        headers: [header('content-type', 'application/json'), ...d.responseHeaders.map(([k, v]) => header(k, v))],
        body: denialBody(d),
      }),
    },
  });
}
