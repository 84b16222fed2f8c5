// The type registry of every Envoy v3 message we generate code for: resolves `@type` URLs of
// typed_config (google.protobuf.Any) when Envoy JSON/YAML is parsed strictly.
import { createRegistry, type Registry } from '@bufbuild/protobuf';
import { allFiles } from './gen/index.js';

let registry: Registry | undefined;

export function envoyRegistry(): Registry {
  registry ??= createRegistry(...allFiles);
  return registry;
}
