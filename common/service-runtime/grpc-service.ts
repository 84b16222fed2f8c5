// Builds a @grpc/grpc-js service definition from a protobuf-es (v2) service descriptor, so that
// generated Envoy services (e.g. RateLimitService) can be served without @grpc/proto-loader.

import {
  create,
  type DescMessage,
  type DescService,
  fromBinary,
  isMessage,
  type MessageInitShape,
  toBinary,
} from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';

/**
 * Methods are keyed by their protobuf name (`ShouldRateLimit`) and carry their protobuf-es local
 * name (`shouldRateLimit`) as `originalName`, so an implementation may use either key.
 *
 * Responses may be messages made with `create(Schema, …)`, plain init objects, or bytes already
 * encoded. `decoders` replaces the request decoding of some methods (keyed by protobuf name), e.g.
 * to read only the fields a handler uses straight from the wire. A request that fails to parse
 * makes `deserialize` throw; the server (grpc-server.ts, as @grpc/grpc-js's) answers that call
 * INTERNAL without invoking the handler, and the process keeps running.
 */
export function grpcServiceDefinition(
  service: DescService,
  decoders: Record<string, (bytes: Uint8Array) => unknown> = {},
): grpc.ServiceDefinition {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const requestStream = method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming';
    const responseStream = method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming';
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream,
      responseStream,
      requestSerialize: serializer(method.input),
      requestDeserialize: Object.hasOwn(decoders, method.name)
        ? deserializeWith(method.input, decoders[method.name])
        : deserializer(method.input),
      responseSerialize: serializer(method.output),
      responseDeserialize: deserializer(method.output),
      originalName: method.localName,
    };
  }
  return definition;
}

/**
 * A definition whose methods take and give bytes as they are (no protobuf on either side): for a
 * client that sends arbitrary bytes, e.g. tests of what a server does with malformed requests.
 * `methods`: method name → full path ('/pkg.Service/Method').
 */
export function rawBytesDefinition(methods: Record<string, string>): grpc.ServiceDefinition {
  const identity = (bytes: Buffer) => bytes;
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const [name, path] of Object.entries(methods)) {
    definition[name] = {
      path,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    };
  }
  return definition;
}

function serializer(schema: DescMessage): (value: unknown) => Buffer {
  return (value) => {
    if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const message = isMessage(value, schema) ? value : create(schema, value as MessageInitShape<DescMessage>);
    const bytes = toBinary(schema, message);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function deserializer(schema: DescMessage): (bytes: Buffer) => unknown {
  return deserializeWith(schema, (bytes) => fromBinary(schema, bytes));
}

function deserializeWith(schema: DescMessage, decode: (bytes: Uint8Array) => unknown): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (e) {
      throw new Error(`invalid ${schema.typeName}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
}
