// Every generated YAML file is written the same way: a header that says where it came from,
// keys in the order the emitters built them, no anchors, no folded lines. Same input, same bytes.
import { primeYamlDocuments } from './validate/yaml-documents.js';
import { writeYaml } from './yaml-writer.js';

function comment(header: string): string {
  return header
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n');
}

export function toYaml(value: unknown, header: string): string {
  const text = `${comment(header)}\n${writeYaml(value)}`;
  primeYamlDocuments(text, [value]);
  return text;
}

/** Several objects as one multi-document YAML file (Kubernetes style), same rules as toYaml. */
export function toYamlDocuments(values: unknown[], header: string): string {
  const text = `${comment(header)}\n${values.map(writeYaml).join('---\n')}`;
  primeYamlDocuments(text, values);
  return text;
}
