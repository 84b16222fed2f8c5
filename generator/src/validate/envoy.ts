// Strict validation of an Envoy v3 bootstrap document (the parsed YAML/JSON of an envoy.yaml), the
// way Envoy itself reads it: proto3 JSON against the API descriptors (unknown fields, wrong JSON
// types, unknown enum names and `@type`s, oneof conflicts) plus the protoc-gen-validate rules that
// Envoy checks at load. Cross-references (routes to clusters, ...) are checked elsewhere.
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { envoyRegistry } from '../../../common/envoy-api/registry.js';
import { walkMessage } from './envoy-json-walk.js';
import type { OutputProblem } from './problem.js';

/**
 * Every problem in `doc` as an Envoy v3 Bootstrap; [] when Envoy would accept it. `doc` is not changed.
 * `crossCheck`: also parse with protobuf-es's own strict JSON reader, which must agree (belt and
 * braces; it costs more than the walk itself on very large configs).
 */
export function validateEnvoyBootstrap(
  doc: unknown,
  file: string,
  opts: { crossCheck?: boolean } = {},
): OutputProblem[] {
  const registry = envoyRegistry();
  const BootstrapSchema = registry.getMessage('envoy.config.bootstrap.v3.Bootstrap')!;
  const problems = walkMessage(BootstrapSchema, doc, file, registry);
  if (problems.length > 0 || opts.crossCheck === false) return problems;
  try {
    fromJson(BootstrapSchema, doc as JsonValue, { registry });
  } catch (e) {
    return [{ file, path: '', message: `not a valid Bootstrap: ${e instanceof Error ? e.message : String(e)}` }];
  }
  return [];
}
