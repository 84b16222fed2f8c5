// Strict validation of an Envoy v3 bootstrap document (the parsed YAML/JSON of an envoy.yaml), the
// way Envoy itself reads it: proto3 JSON against the API descriptors (unknown fields, wrong JSON
// types, unknown enum names and `@type`s, oneof conflicts) plus the protoc-gen-validate rules that
// Envoy checks at load. Cross-references (routes to clusters, ...) are checked elsewhere.
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { BootstrapSchema } from '../../../common/envoy-api/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { envoyRegistry } from '../../../common/envoy-api/registry.js';
import { walkMessage } from './envoy-json-walk.js';
import type { OutputProblem } from './problem.js';

/** Every problem in `doc` as an Envoy v3 Bootstrap; [] when Envoy would accept it. `doc` is not changed. */
export function validateEnvoyBootstrap(doc: unknown, file: string): OutputProblem[] {
  const registry = envoyRegistry();
  const problems = walkMessage(BootstrapSchema, doc, file, registry);
  if (problems.length > 0) return problems;
  // Belt and braces: protobuf-es's own strict JSON reader must agree.
  try {
    fromJson(BootstrapSchema, doc as JsonValue, { registry });
  } catch (e) {
    return [{ file, path: '', message: `not a valid Bootstrap: ${e instanceof Error ? e.message : String(e)}` }];
  }
  return [];
}
