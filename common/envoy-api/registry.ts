// The type registry of every Envoy v3 message we generate code for: resolves `@type` URLs of
// typed_config (google.protobuf.Any) when Envoy JSON/YAML is parsed strictly. Built from the one
// binary descriptor set that scripts/generate.mjs writes beside the generated TypeScript (same
// protos): loading it is much faster than importing several hundred generated modules.
import fs from 'node:fs';
import { createFileRegistry, fromBinary, type Registry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

let registry: Registry | undefined;

/** From source (common/envoy-api/) or from the build (dist/common/envoy-api/). */
const candidates = [
  new URL('./gen/envoy-api.binpb', import.meta.url),
  new URL('../../../common/envoy-api/gen/envoy-api.binpb', import.meta.url),
];

export function envoyRegistry(): Registry {
  if (!registry) {
    const file = candidates.find((u) => fs.existsSync(u));
    if (!file) throw new Error('envoy-api.binpb is missing: run npm run gen:envoy-api');
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, fs.readFileSync(file)));
  }
  return registry;
}
