// Builds CheckRequests the way Envoy's ext_authz filter does: lower-case header keys including the
// pseudo-headers, the path with its query, the body as raw_body bytes when the route buffers it,
// and the route's context_extensions.
import { create } from '@bufbuild/protobuf';
import {
  type CheckRequest,
  CheckRequestSchema,
} from '../../common/envoy-api/gen/envoy/service/auth/v3/external_auth_pb.js';

export interface EnvoyRequest {
  method?: string;
  path: string;
  host?: string;
  headers?: Record<string, string>;
  body?: string | object;
  policy?: string;
  sourceIp?: string;
}

export function envoyCheckRequest(r: EnvoyRequest): CheckRequest {
  const method = r.method ?? 'POST';
  const host = r.host ?? 'llm.example.internal';
  const body = r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  const headers: Record<string, string> = {
    ':authority': host,
    ':method': method,
    ':path': r.path,
    ':scheme': 'http',
    'x-request-id': 'req-1',
    'x-forwarded-proto': 'https',
    ...(body !== undefined
      ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
      : {}),
  };
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  return create(CheckRequestSchema, {
    attributes: {
      source: {
        address: {
          address: {
            case: 'socketAddress',
            value: { address: r.sourceIp ?? '10.1.2.3', portSpecifier: { case: 'portValue', value: 50000 } },
          },
        },
      },
      request: {
        http: {
          id: 'req-1',
          method,
          headers,
          path: r.path,
          host,
          scheme: 'http',
          protocol: 'HTTP/1.1',
          size: BigInt(body === undefined ? 0 : Buffer.byteLength(body)),
          rawBody: body === undefined ? new Uint8Array() : new TextEncoder().encode(body),
        },
      },
      contextExtensions: r.policy === undefined ? {} : { policy: r.policy },
    },
  });
}
