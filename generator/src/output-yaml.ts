// Every generated YAML file is written the same way: a header that says where it came from,
// keys in the order the emitters built them, no anchors, no folded lines. Same input, same bytes.
import { writeYaml } from './yaml-writer.js';

function comment(header: string): string {
  return header
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n');
}

export function toYaml(value: unknown, header: string): string {
  return `${comment(header)}\n${writeYaml(value)}`;
}

/** Several objects as one multi-document YAML file (Kubernetes style), same rules as toYaml. */
export function toYamlDocuments(values: unknown[], header: string): string {
  return `${comment(header)}\n${values.map(writeYaml).join('---\n')}`;
}
