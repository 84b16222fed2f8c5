// Test helper: an Envoy config fragment written as in envoy.yaml (snake_case proto JSON), read
// strictly into its protobuf-es message, so unit tests can feed hand-written fragments.
import { type DescMessage, fromJson, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { envoyRegistry } from '../../../common/envoy-api/registry.js';

export function fragment<D extends DescMessage>(schema: D, json: unknown): MessageShape<D> {
  return fromJson(schema, json as JsonValue, { registry: envoyRegistry() });
}
