// A response Envoy generates itself (sendLocalReply): no route, direct_response, ext_authz denial
// or error, rate limiting, path redirects, oversized bodies. A non-empty body gets
// `content-type: text/plain` unless the filter's own headers set one (ext_authz's denied_response
// content-type, or the rate limit service's, wins). The reply then passes
// through the encoder side of every HTTP filter, like an upstream response would.
import { HeaderMap } from './header-map.js';

export interface Reply {
  status: number;
  headers: HeaderMap;
  body: string;
  /** True when Envoy generated the response (false: it would come from the backend). */
  local: boolean;
}

export function localReply(status: number, body = '', modify?: (h: HeaderMap) => void): Reply {
  const headers = new HeaderMap();
  modify?.(headers);
  if (body !== '' && !headers.has('content-type')) headers.set('content-type', 'text/plain');
  headers.set('content-length', String(Buffer.byteLength(body)));
  return { status, headers, body, local: true };
}

/** Envoy's CodeUtility::toString for the statuses the simulator produces itself. */
export const statusText: Record<number, string> = {
  400: 'Bad Request',
  413: 'Payload Too Large',
};
