// What ext-authz answers, independent of the transport (Envoy gRPC, Envoy HTTP, nginx).

/** A request's headers by lower-case name, each with its values in order (a Map of arrays is one). */
export interface RequestHeaders extends Iterable<[string, readonly string[]]> {
  get(name: string): readonly string[] | undefined;
}

export interface CheckInput {
  method: string;
  /** Path with query, as the client sent it. */
  path: string;
  host: string;
  /** Lower-case header names. Envoy joins repeated headers with ","; other callers may pass several values. */
  headers: RequestHeaders;
  /** The request body when the route asked for it (Envoy with_request_body). */
  body?: Uint8Array;
  /** The policy named by the route (Envoy context_extensions "policy"). */
  policy?: string;
  requestId: string;
  sourceIp: string;
}

/**
 * Before a check waits (a JWT to verify, a token quota to charge): own copies of what may be views
 * of the request's bytes (a header list read off the wire, a body sliced from the socket's read
 * buffer), so that a waiting check never keeps a socket's whole read buffer alive (the gRPC
 * server hands a body over as such a view only for use before its handler returns).
 */
export function detachInput(input: CheckInput): void {
  if (!(input.headers instanceof Map)) input.headers = new Map(input.headers);
  const body = input.body;
  if (body && body.byteLength !== body.buffer.byteLength) input.body = new Uint8Array(body);
}

export interface Decision {
  allow: boolean;
  /** HTTP status for a denial (401, 403, 400, 404, 413, 503); 200 on allow. */
  status: number;
  /** Short reason, safe for clients and logs. */
  reason: string;
  /** Upstream request headers to set (overwrite) on allow. */
  setHeaders: [string, string][];
  /** Upstream request headers to remove on allow. */
  removeHeaders: string[];
  /** Headers of the denial response (e.g. www-authenticate). */
  responseHeaders: [string, string][];
  /** Dynamic metadata for Envoy (rate-limit descriptors, access log). */
  metadata: Record<string, string | number>;
  client?: string;
  tenant?: string;
  route?: string;
  model?: string;
  estimatedTokens?: number;
}

export function deny(status: number, reason: string, extra: Partial<Decision> = {}): Decision {
  return {
    allow: false,
    status,
    reason,
    setHeaders: [],
    removeHeaders: [],
    responseHeaders: [],
    metadata: {},
    ...extra,
  };
}

/** The JSON body of a denial: OpenAI-style, so SDKs show the message. */
export function denialBody(d: Decision): string {
  const type =
    d.status === 401
      ? 'authentication_error'
      : d.status === 403
        ? 'permission_error'
        : d.status >= 500
          ? 'gateway_error'
          : 'invalid_request_error';
  return `${JSON.stringify({ error: { message: d.reason, type, code: d.status } })}\n`;
}
