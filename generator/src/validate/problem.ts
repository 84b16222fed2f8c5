// A problem found in a generated output file, before anything is written.
export interface OutputProblem {
  /** Output file, relative to the output folder (e.g. `envoy/envoy.yaml`). */
  file: string;
  /** Where in the file, as a dotted path with the file's own field names, e.g. `static_resources.clusters[2].name`. */
  path: string;
  message: string;
}

export function formatProblem(p: OutputProblem): string {
  return `${p.file}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}
