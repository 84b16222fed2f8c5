// One real unary gRPC call with @grpc/grpc-js, on raw bytes (the caller encodes the request and
// decodes the response, e.g. with protobuf-es toBinary/fromBinary). Benches use it to check that a
// target really answers with gRPC status OK before loading it with h2load, which cannot see
// grpc-status (it is in the HTTP/2 trailers of an HTTP 200 response).
import * as grpc from '@grpc/grpc-js';

const identity = (b) => b;

/**
 * Calls `path` ('/pkg.Service/Method') on host:port with `requestBytes` (a message, unframed).
 * Resolves { code, codeName, details, response (Buffer | undefined), ms }; never rejects for a
 * gRPC error status (code ≠ 0), only for bad arguments.
 */
export function grpcUnaryCall({ host = '127.0.0.1', port, path, requestBytes, timeoutMs = 5000 }) {
  const client = new grpc.Client(
    `${host.includes(':') ? `[${host}]` : host}:${port}`,
    grpc.credentials.createInsecure(),
  );
  const t0 = performance.now();
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      identity,
      identity,
      Buffer.from(requestBytes.buffer, requestBytes.byteOffset, requestBytes.byteLength),
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, response) => {
        client.close();
        const code = err ? (err.code ?? grpc.status.UNKNOWN) : grpc.status.OK;
        resolve({
          code,
          codeName: grpc.status[code],
          details: err?.details ?? '',
          response,
          ms: performance.now() - t0,
        });
      },
    );
  });
}
